#include "functions/depth_argument.hpp"

#include "base/postgres_headers.hpp"

extern "C" {
#include "mb/pg_wchar.h"
}

namespace mailsentry::pg {

namespace {
constexpr int kEchoedBytes = 40;
}

Depth depth_from_argument(const char* text) {
  Depth depth = Depth::standard;
  // parse_depth compares views of a C string: nothing to throw.
  if (parse_depth(text, depth)) return depth;
  const int length = static_cast<int>(strlen(text));
  const int shown = pg_mbcliplen(text, length, kEchoedBytes);
  ereport(ERROR,
          (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
           errmsg("mailsentry: unknown depth \"%.*s%s\"", shown, text, shown < length ? "..." : ""),
           errhint("Use 'quick', 'standard' or 'extended'.")));
  return depth;
}

}  // namespace mailsentry::pg
