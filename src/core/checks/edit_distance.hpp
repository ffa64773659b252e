// Bounded edit distance for typo detection.
#pragma once

#include <cstddef>
#include <string_view>

namespace mailsentry {

// Optimal string alignment distance (Levenshtein plus the transposition of two
// adjacent characters, each substring edited at most once) between `a` and
// `b`, computed only up to `max_distance`: returns `max_distance + 1` as soon
// as the strings are known to be further apart. Works on bytes. Bounds of one
// or two (the ones typo detection uses) take a few linear comparisons; larger
// bounds run a banded matrix, O(length * max_distance) at worst, that skips
// common prefixes and suffixes and stops once a whole row exceeds the bound.
int bounded_osa_distance(std::string_view a, std::string_view b, int max_distance);

// Byte equality for the short strings compared here (domain names): an
// inline loop beats a call into the C library's memcmp at these lengths.
inline bool same_text(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// True when `a` and `b` are equal or one edit apart (a substitution,
// insertion, deletion or adjacent transposition). A single linear pass.
bool within_one_edit(std::string_view a, std::string_view b);

}  // namespace mailsentry
