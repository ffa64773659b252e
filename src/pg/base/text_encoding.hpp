// Text crossing between the database encoding and the UTF-8 the core uses.
#pragma once

#include <cstddef>

#include "base/postgres_headers.hpp"

namespace mailsentry::pg {

struct Utf8Text {
  const char* data;
  std::size_t size;
};

// The argument as UTF-8 (converted from the database encoding when needed;
// under SQL_ASCII the bytes are passed as they are and the core rejects
// anything that is not UTF-8).
Utf8Text text_as_utf8(text* value);

// A text datum in the database encoding from UTF-8 bytes.
text* utf8_to_text(const char* data, std::size_t size);

}  // namespace mailsentry::pg
