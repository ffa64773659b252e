// Names of enumerators for messages and statistics, written as a table of
// pairs instead of one switch per enum: each row states its enumerator, so
// the table stays right when the enum is reordered.
#pragma once

#include <cstddef>

namespace mailsentry {

template <typename Enum>
struct EnumText {
  Enum value;
  const char* text;
};

// The text of `value` in `table`; `fallback` when the table lacks it.
template <typename Enum, std::size_t N>
constexpr const char* enum_text(Enum value, const EnumText<Enum> (&table)[N],
                                const char* fallback) {
  for (const EnumText<Enum>& row : table) {
    if (row.value == value) return row.text;
  }
  return fallback;
}

}  // namespace mailsentry
