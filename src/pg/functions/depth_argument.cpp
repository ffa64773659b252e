#include "functions/depth_argument.hpp"

#include "base/postgres_headers.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(mailsentry_depth_names);
PG_FUNCTION_INFO_V1(mailsentry_require_depth);
}

namespace mailsentry::pg {

namespace {

constexpr int kEchoedBytes = 40;
constexpr int kDepthCount = static_cast<int>(std::size(kDepths));

// "Use 'quick', 'standard' or 'extended'." from the one list of names.
const char* depth_hint() {
  StringInfoData hint;
  initStringInfo(&hint);
  appendStringInfoString(&hint, "Use ");
  for (int i = 0; i < kDepthCount; ++i) {
    if (i > 0) appendStringInfoString(&hint, i == kDepthCount - 1 ? " or " : ", ");
    appendStringInfo(&hint, "'%.*s'", static_cast<int>(kDepths[i].second.size()),
                     kDepths[i].second.data());
  }
  appendStringInfoChar(&hint, '.');
  return hint.data;
}

}  // namespace

Depth depth_from_argument(const char* text) {
  Depth depth = Depth::standard;
  // parse_depth compares views of a C string: nothing to throw.
  if (parse_depth(text, depth)) return depth;
  const int length = static_cast<int>(strlen(text));
  const int shown = pg_mbcliplen(text, length, kEchoedBytes);
  const char* hint = depth_hint();
  ereport(ERROR,
          (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
           errmsg("mailsentry: unknown depth \"%.*s%s\"", shown, text, shown < length ? "..." : ""),
           errhint("%s", hint)));
  return depth;
}

// The entry points keep the C linkage PG_FUNCTION_INFO_V1 declared above.

// mailsentry.depth_names(): the depths SQL accepts, shallowest first (the
// job table's CHECK and submit() read them here).
extern "C" Datum mailsentry_depth_names(PG_FUNCTION_ARGS) {
  Datum names[kDepthCount];
  for (int i = 0; i < kDepthCount; ++i)
    names[i] = PointerGetDatum(
        cstring_to_text_with_len(kDepths[i].second.data(), kDepths[i].second.size()));
  PG_RETURN_ARRAYTYPE_P(construct_array(names, kDepthCount, TEXTOID, -1, false, TYPALIGN_INT));
}

// mailsentry.require_depth(text): the unknown-depth ERROR of the
// verification functions, for submit().
extern "C" Datum mailsentry_require_depth(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("mailsentry: the depth is NULL"), errhint("%s", depth_hint())));
  (void)depth_from_argument(text_to_cstring(PG_GETARG_TEXT_PP(0)));
  PG_RETURN_VOID();
}

}  // namespace mailsentry::pg
