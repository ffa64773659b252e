#include "checks/edit_distance.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

namespace mailsentry {

namespace {

// Rows of this many cells live on the stack; longer strings (never a valid
// domain) fall back to the heap.
constexpr std::size_t kStackRowCells = 256;

// The banded dynamic programme on strings that differ in their first and last
// characters. `shorter.size() <= longer.size() <= shorter.size() + bound`.
// Only cells within `bound` of the diagonal can hold a value <= bound, so only
// those are computed; every other cell reads as `bound + 1` ("too far").
int banded_osa(std::string_view shorter, std::string_view longer, int bound, int* row_a, int* row_b,
               int* row_c) {
  const int rows = static_cast<int>(shorter.size());
  const int cols = static_cast<int>(longer.size());
  const int too_far = bound + 1;
  int* before_previous = row_a;  // row i - 2, for transpositions
  int* previous = row_b;         // row i - 1
  int* current = row_c;          // row i

  const int first_last = std::min(cols, bound);
  for (int j = 0; j <= first_last; ++j) previous[j] = j;
  if (first_last < cols) previous[first_last + 1] = too_far;

  for (int i = 1; i <= rows; ++i) {
    const int first = std::max(1, i - bound);
    const int last = std::min(cols, i + bound);
    current[first - 1] = first == 1 ? std::min(i, too_far) : too_far;
    int row_min = current[first - 1];
    const char from = shorter[i - 1];
    for (int j = first; j <= last; ++j) {
      const char to = longer[j - 1];
      int cell = std::min(previous[j], current[j - 1]) + 1;
      cell = std::min(cell, previous[j - 1] + (from == to ? 0 : 1));
      if (i > 1 && j > 1 && from == longer[j - 2] && shorter[i - 2] == to)
        cell = std::min(cell, before_previous[j - 2] + 1);
      cell = std::min(cell, too_far);
      current[j] = cell;
      row_min = std::min(row_min, cell);
    }
    if (last < cols) current[last + 1] = too_far;
    if (row_min > bound) return too_far;
    int* recycled = before_previous;
    before_previous = previous;
    previous = current;
    current = recycled;
  }
  return previous[cols];
}

// Whether the distance is at most `budget`, for small budgets: after the
// common prefix the first characters differ, so one of the four edits must
// happen right there and the rest must be within `budget - 1`. With budgets
// of one or two that is a handful of linear comparisons, well under the cost
// of even a banded matrix.
bool within_edits(std::string_view a, std::string_view b, int budget) {
  std::size_t same = 0;
  while (same < a.size() && same < b.size() && a[same] == b[same]) ++same;
  a.remove_prefix(same);
  b.remove_prefix(same);
  const std::size_t gap = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (gap > static_cast<std::size_t>(budget)) return false;
  if (a.empty() || b.empty()) return true;  // the gap, already within budget
  if (budget == 1) return within_one_edit(a, b);
  const int rest = budget - 1;
  return within_edits(a.substr(1), b.substr(1), rest) ||  // substitution
         within_edits(a.substr(1), b, rest) ||            // deletion
         within_edits(a, b.substr(1), rest) ||            // insertion
         (a.size() > 1 && b.size() > 1 && a[0] == b[1] && a[1] == b[0] &&
          within_edits(a.substr(2), b.substr(2), rest));  // transposition
}

}  // namespace

int bounded_osa_distance(std::string_view a, std::string_view b, int max_distance) {
  if (max_distance < 0) return a == b ? 0 : max_distance + 1;
  if (max_distance <= 2) {
    if (same_text(a, b)) return 0;
    if (max_distance >= 1 && within_one_edit(a, b)) return 1;
    if (max_distance == 2 && within_edits(a, b, 2)) return 2;
    return max_distance + 1;
  }
  if (a.size() > b.size()) std::swap(a, b);
  if (b.size() - a.size() > static_cast<std::size_t>(max_distance)) return max_distance + 1;

  // A shared prefix or suffix never needs an edit, and typos are usually a
  // character or two in the middle of otherwise equal strings.
  std::size_t prefix = 0;
  while (prefix < a.size() && a[prefix] == b[prefix]) ++prefix;
  a.remove_prefix(prefix);
  b.remove_prefix(prefix);
  std::size_t suffix = 0;
  while (suffix < a.size() && a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix]) ++suffix;
  a.remove_suffix(suffix);
  b.remove_suffix(suffix);

  if (a.empty()) return static_cast<int>(b.size());  // already known to be <= max_distance

  const std::size_t cells = b.size() + 2;
  if (cells <= kStackRowCells) {
    std::array<int, kStackRowCells> row_a, row_b, row_c;
    return banded_osa(a, b, max_distance, row_a.data(), row_b.data(), row_c.data());
  }
  std::vector<int> rows(3 * cells);
  return banded_osa(a, b, max_distance, rows.data(), rows.data() + cells, rows.data() + 2 * cells);
}

bool within_one_edit(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  if (b.size() - a.size() > 1) return false;
  std::size_t same = 0;
  while (same < a.size() && a[same] == b[same]) ++same;
  if (same == a.size()) return true;  // equal, or one character appended
  if (a.size() < b.size()) return same_text(a.substr(same), b.substr(same + 1));  // one inserted
  if (same_text(a.substr(same + 1), b.substr(same + 1))) return true;             // one substituted
  return same + 1 < a.size() && a[same] == b[same + 1] && a[same + 1] == b[same] &&
         same_text(a.substr(same + 2), b.substr(same + 2));  // two swapped
}

}  // namespace mailsentry
