// Reading one column of an SPI result row into plain data (the PostgreSQL
// side of every table module: no C++ object is built here).
#pragma once

#include <cstdint>
#include <string_view>

#include "base/postgres_headers.hpp"
#include "base/text_encoding.hpp"
#include "verdict/network_pod.hpp"

extern "C" {
#include "executor/spi.h"
}

namespace mailsentry::pg {

// A text column as UTF-8; NULL marks `out` null.
template <std::size_t N>
void text_field(HeapTuple tuple, TupleDesc desc, int column, FixedText<N>& out) {
  bool isnull;
  const Datum value = SPI_getbinval(tuple, desc, column, &isnull);
  if (isnull) {
    out.set_null();
    return;
  }
  const Utf8Text utf8 = text_as_utf8(DatumGetTextPP(value));
  out.assign(std::string_view(utf8.data, utf8.size));
}

inline TriState bool_field(HeapTuple tuple, TupleDesc desc, int column) {
  bool isnull;
  const Datum value = SPI_getbinval(tuple, desc, column, &isnull);
  return isnull ? TriState::null : (DatumGetBool(value) ? TriState::yes : TriState::no);
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

}  // namespace mailsentry::pg
