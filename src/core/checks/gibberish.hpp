// Naturalness of a local part: a character n-gram model trained at build
// time on names and English words, plus pattern detectors.
#pragma once

#include <string>
#include <string_view>

namespace mailsentry {

// Patterns, when one fires:
// - "keyboard_sequence": a keyboard walk or an alphabet or number run, in
//   either direction (qwerty, ytrewq, abcdef, fedcba, 123456);
// - "repeated_chars": one character or one unit over the whole local part
//   (aaaa, xyxyxy, abcabcabc), or a letter held down (zzzzzzjohn); a number
//   after a name (user0000, anna1987) is not one;
// - "random_characters": letters the model finds unnatural, or letters and
//   digits alternating like a generated id (xkqjwv, x7k2p9q4).
struct GibberishResult {
  bool is_gibberish = false;
  int score = 100;      // 0-100, higher = more natural
  std::string pattern;  // "keyboard_sequence" | "repeated_chars" | "random_characters" | ""
};

// is_gibberish is set when the score is below this or a pattern fires.
inline constexpr int kGibberishScoreThreshold = 50;
// Score for local parts the model cannot judge: non-ASCII scripts (the model
// knows Latin letters only), digits only, empty.
inline constexpr int kNeutralGibberishScore = 70;
// A keyboard walk or repetition scores at most this, whatever the model says.
inline constexpr int kPatternScoreCap = 15;

// `local` is the local part; a +tag is ignored, separators (. _ -) and digits
// are handled by the model, not by the caller.
GibberishResult assess_gibberish(std::string_view local);

}  // namespace mailsentry
