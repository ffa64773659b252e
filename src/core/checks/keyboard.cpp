#include "checks/keyboard.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace mailsentry {
namespace {

// US QWERTY, each row indexed from its left end. Keys at the same index in
// neighbouring rows are the "columns" people type as walks (1qaz, 2wsx, edc).
constexpr std::array<std::string_view, 4> kRows = {"1234567890", "qwertyuiop", "asdfghjkl",
                                                   "zxcvbnm"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return c >= 'a' && c <= 'z'; }

// Symbols: 0 = anything else, 1..26 = 'a'..'z', 27..36 = '0'..'9'.
constexpr int kSymbolCount = 37;

constexpr int symbol_of(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a' + 1;
  if (c >= '0' && c <= '9') return c - '0' + 27;
  return 0;
}

constexpr int distance(int a, int b) { return a > b ? a - b : b - a; }

// Two relations, kept apart: mixing them inside one run would find "walks"
// in ordinary words (d-s-a on the keyboard, then f-e in the alphabet).
enum Relation : unsigned char { kKeyboard = 1, kSequence = 2 };

using RelationTable = std::array<std::array<unsigned char, kSymbolCount>, kSymbolCount>;

constexpr RelationTable make_relations() {
  RelationTable relations{};
  // Keyboard: same row and next to each other, or same column in the next row.
  for (std::size_t row_a = 0; row_a < kRows.size(); ++row_a)
    for (std::size_t row_b = 0; row_b < kRows.size(); ++row_b)
      for (std::size_t col_a = 0; col_a < kRows[row_a].size(); ++col_a)
        for (std::size_t col_b = 0; col_b < kRows[row_b].size(); ++col_b) {
          bool along_row = row_a == row_b && distance(col_a, col_b) == 1;
          bool down_column = distance(row_a, row_b) == 1 && col_a == col_b;
          if (along_row || down_column)
            relations[symbol_of(kRows[row_a][col_a])][symbol_of(kRows[row_b][col_b])] |= kKeyboard;
        }
  // Alphabet and counting order: ab, cb, 12, 21, and 90 as on the keyboard.
  for (char c = 'a'; c < 'z'; ++c) {
    relations[symbol_of(c)][symbol_of(c + 1)] |= kSequence;
    relations[symbol_of(c + 1)][symbol_of(c)] |= kSequence;
  }
  for (char c = '0'; c < '9'; ++c) {
    relations[symbol_of(c)][symbol_of(c + 1)] |= kSequence;
    relations[symbol_of(c + 1)][symbol_of(c)] |= kSequence;
  }
  relations[symbol_of('9')][symbol_of('0')] |= kSequence;
  relations[symbol_of('0')][symbol_of('9')] |= kSequence;
  return relations;
}

constexpr RelationTable kRelations = make_relations();

// Local parts are at most 64 octets (RFC 5321); longer input is judged on
// its first kMaxLength characters, which keeps coverage in one 64-bit mask.
constexpr std::size_t kMaxLength = 64;

// How many characters of `text` lie in runs of three or more neighbours
// under one relation. A run may turn but not bounce back (e-r-e is typing,
// not a walk). One pass follows a keyboard run and a sequence run at once.
std::size_t walk_coverage(std::string_view text) {
  const std::size_t n = std::min(text.size(), kMaxLength);
  std::uint64_t covered = 0;
  std::size_t run_start[2] = {0, 0};
  for (std::size_t i = 1; i <= n; ++i) {
    unsigned char relation = i < n ? kRelations[symbol_of(text[i - 1])][symbol_of(text[i])] : 0;
    for (int kind = 0; kind < 2; ++kind) {
      std::size_t& start = run_start[kind];
      bool continues = (relation & (1 << kind)) != 0 && !(i - start >= 2 && text[i] == text[i - 2]);
      if (continues) continue;
      std::size_t length = i - start;
      if (length >= 3) covered |= (length == 64 ? ~0ULL : ((1ULL << length) - 1)) << start;
      start = i;
    }
  }
  return static_cast<std::size_t>(__builtin_popcountll(covered));
}

bool mostly_covered(std::size_t covered, std::size_t length) { return covered * 5 >= length * 4; }

}  // namespace

bool is_keyboard_sequence(std::string_view alnum) {
  if (alnum.size() > kMaxLength) alnum = alnum.substr(0, kMaxLength);
  std::array<char, kMaxLength> letters, digits;  // filled up to the counts below
  std::size_t letter_count = 0, digit_count = 0;
  for (char c : alnum) {
    if (is_letter(c)) letters[letter_count++] = c;
    if (is_digit(c)) digits[digit_count++] = c;
  }
  std::string_view letter_part(letters.data(), letter_count);
  std::string_view digit_part(digits.data(), digit_count);

  // A letter walk with a number tacked on (qwerty2024) is still a walk.
  if (letter_count >= 5 && mostly_covered(walk_coverage(letter_part), letter_count)) return true;
  if (letter_count == alnum.size()) return false;  // the whole string was just checked
  if (alnum.size() >= 5 && mostly_covered(walk_coverage(alnum), alnum.size())) return true;
  // Interleaved runs: a1b2c3, 123abc456.
  return letter_count > 0 && digit_count > 0 && alnum.size() >= 6 &&
         mostly_covered(walk_coverage(letter_part) + walk_coverage(digit_part), alnum.size());
}

bool is_repetition(std::string_view alnum) {
  const std::size_t n = alnum.size();
  if (n < 4) return false;

  // A unit repeated at least three times over the whole string.
  for (std::size_t period = 1; period * 3 <= n; ++period) {
    if (period > 1 && n < 6) break;
    bool periodic = true;
    for (std::size_t i = period; i < n && periodic; ++i) periodic = alnum[i] == alnum[i - period];
    if (periodic) return true;
  }

  // One character held down: five letters, or a run that is half the string.
  std::size_t run = 1;
  for (std::size_t i = 1; i < n; ++i) {
    run = alnum[i] == alnum[i - 1] ? run + 1 : 1;
    if ((run >= 5 && is_letter(alnum[i])) || (run >= 4 && run * 2 >= n)) return true;
  }
  return false;
}

}  // namespace mailsentry
