// Shared helper of the fuzz targets: report a broken invariant and abort, so
// that libFuzzer saves the input as a crash (crash-<sha1>).
#pragma once

#include <cstdio>
#include <string_view>

namespace mailsentry::fuzz {

// Prints `what` and, escaped, the strings involved, then traps.
[[noreturn]] inline void invariant_broken(const char* what, std::string_view a = {},
                                          std::string_view b = {}) {
  auto print_escaped = [](const char* label, std::string_view text) {
    std::fprintf(stderr, "  %s: \"", label);
    for (unsigned char c : text) {
      if (c == '"' || c == '\\')
        std::fprintf(stderr, "\\%c", c);
      else if (c >= 0x20 && c < 0x7f)
        std::fputc(c, stderr);
      else
        std::fprintf(stderr, "\\x%02x", c);
    }
    std::fprintf(stderr, "\"\n");
  };
  std::fprintf(stderr, "\n==mailsentry fuzz== invariant broken: %s\n", what);
  if (a.data()) print_escaped("first", a);
  if (b.data()) print_escaped("second", b);
  std::fflush(stderr);
  __builtin_trap();
}

inline bool has_control_byte(std::string_view text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

}  // namespace mailsentry::fuzz
