#include "base/text_encoding.hpp"

#include <cstring>

extern "C" {
#include "mb/pg_wchar.h"
}

namespace mailsentry::pg {

Utf8Text text_as_utf8(text* value) {
  char* data = VARDATA_ANY(value);
  const int size = VARSIZE_ANY_EXHDR(value);
  const int encoding = GetDatabaseEncoding();
  if (encoding == PG_UTF8 || encoding == PG_SQL_ASCII)
    return {data, static_cast<std::size_t>(size)};
  char* converted = pg_server_to_any(data, size, PG_UTF8);
  if (converted == data) return {data, static_cast<std::size_t>(size)};
  return {converted, std::strlen(converted)};
}

text* utf8_to_text(const char* data, std::size_t size) {
  if (GetDatabaseEncoding() == PG_UTF8)
    return cstring_to_text_with_len(data, static_cast<int>(size));
  char* converted = pg_any_to_server(data, static_cast<int>(size), PG_UTF8);
  if (converted == data) return cstring_to_text_with_len(data, static_cast<int>(size));
  return cstring_to_text(converted);
}

}  // namespace mailsentry::pg
