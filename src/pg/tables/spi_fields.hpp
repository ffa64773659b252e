// Reading the columns of a result row into plain data (the PostgreSQL side
// of every table module: no C++ object is built here).
#pragma once

#include <cstdint>
#include <string_view>

#include "base/postgres_headers.hpp"
#include "base/text_encoding.hpp"
#include "verdict/network_pod.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
}

namespace mailsentry::pg {

// One value of a row, whatever the row came from (SPI or a table scan).

// Text as UTF-8; NULL marks `out` null.
template <std::size_t N>
void text_value(Datum value, bool isnull, FixedText<N>& out) {
  if (isnull) {
    out.set_null();
    return;
  }
  const Utf8Text utf8 = text_as_utf8(DatumGetTextPP(value));
  out.assign(std::string_view(utf8.data, utf8.size));
}

inline TriState bool_value(Datum value, bool isnull) {
  if (isnull) return TriState::null;
  return DatumGetBool(value) ? TriState::yes : TriState::no;
}

// The first `capacity` non-NULL items of a text[]; returns how many.
template <std::size_t N>
std::uint32_t text_array_value(Datum value, bool isnull, FixedText<N>* out,
                               std::uint32_t capacity) {
  if (isnull) return 0;
  Datum* elements;
  bool* nulls;
  int count;
  deconstruct_array(DatumGetArrayTypeP(value), TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls,
                    &count);
  std::uint32_t taken = 0;
  for (int i = 0; i < count && taken < capacity; ++i)
    if (!nulls[i]) text_value(elements[i], false, out[taken++]);
  return taken;
}

// One column of an SPI result row.

template <std::size_t N>
void text_field(HeapTuple tuple, TupleDesc desc, int column, FixedText<N>& out) {
  bool isnull;
  const Datum value = SPI_getbinval(tuple, desc, column, &isnull);
  text_value(value, isnull, out);
}

inline TriState bool_field(HeapTuple tuple, TupleDesc desc, int column) {
  bool isnull;
  const Datum value = SPI_getbinval(tuple, desc, column, &isnull);
  return bool_value(value, isnull);
}

template <std::size_t N>
std::uint32_t text_array_field(HeapTuple tuple, TupleDesc desc, int column, FixedText<N>* out,
                               std::uint32_t capacity) {
  bool isnull;
  const Datum value = SPI_getbinval(tuple, desc, column, &isnull);
  return text_array_value(value, isnull, out, capacity);
}

// NULL reads as 0.
inline std::int64_t int8_field(HeapTuple tuple, TupleDesc desc, int column) {
  bool isnull;
  const Datum value = SPI_getbinval(tuple, desc, column, &isnull);
  return isnull ? 0 : DatumGetInt64(value);
}

inline std::int32_t int4_field(HeapTuple tuple, TupleDesc desc, int column) {
  bool isnull;
  const Datum value = SPI_getbinval(tuple, desc, column, &isnull);
  return isnull ? 0 : DatumGetInt32(value);
}

inline NullableInt nullable_int4_field(HeapTuple tuple, TupleDesc desc, int column) {
  bool isnull;
  const Datum value = SPI_getbinval(tuple, desc, column, &isnull);
  NullableInt out;
  if (isnull)
    out.set_null();
  else
    out.set(DatumGetInt32(value));
  return out;
}

// The column's text in the database encoding, of any length, in SPI's
// memory; "" for NULL.
inline const char* database_text_field(HeapTuple tuple, TupleDesc desc, int column) {
  const char* value = SPI_getvalue(tuple, desc, column);
  return value ? value : "";
}

}  // namespace mailsentry::pg
