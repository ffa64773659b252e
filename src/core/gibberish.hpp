// Naturalness of a local part: a character n-gram model trained at build
// time on names and English words, plus pattern detectors.
#pragma once

#include <string>
#include <string_view>

namespace mailsentry {

struct GibberishResult {
  bool is_gibberish = false;
  int score = 100;      // 0-100, higher = more natural
  std::string pattern;  // "keyboard_sequence" | "repeated_chars" | "random_characters" | ""
};

// `local` is the local part; a +tag is ignored, separators (. _ -) and digits
// are handled by the model, not by the caller.
GibberishResult assess_gibberish(std::string_view local);

}  // namespace mailsentry
