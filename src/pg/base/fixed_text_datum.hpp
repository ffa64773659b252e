// Plain-data text (FixedText) as PostgreSQL datums, in the database encoding.
#pragma once

#include "base/postgres_headers.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
}

#include "base/text_encoding.hpp"
#include "verdict/verification_record.hpp"

namespace mailsentry::pg {

// A text[] of the first `count` items.
template <std::size_t N>
Datum fixed_text_array(const FixedText<N>* items, std::uint32_t count) {
  Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * (count ? count : 1)));
  for (std::uint32_t i = 0; i < count; ++i)
    elements[i] = PointerGetDatum(utf8_to_text(items[i].bytes, items[i].size));
  return PointerGetDatum(
      construct_array(elements, static_cast<int>(count), TEXTOID, -1, false, TYPALIGN_INT));
}

}  // namespace mailsentry::pg
