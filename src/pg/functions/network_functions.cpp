// verify_email(), verify_email_json() and mailsentry.cached_result(): the
// one-address case of the backend path (pipeline/backend_verification).
// Each reads its arguments, runs the path, and builds its result.
#include "base/postgres_headers.hpp"

extern "C" {
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
}

#include <string>

#include "base/guard.hpp"
#include "base/text_encoding.hpp"
#include "functions/depth_argument.hpp"
#include "functions/result_tuple.hpp"
#include "functions/row_by_row_notice.hpp"
#include "pipeline/backend_verification.hpp"
#include "pipeline/call_context.hpp"
#include "verdict/record_json.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(verify_email);
PG_FUNCTION_INFO_V1(verify_email_json);
PG_FUNCTION_INFO_V1(mailsentry_cached_result);
}

namespace mailsentry::pg {
namespace {

// What a single-address call makes of its one finished input, built while
// the batch is alive (no copy of the record).
struct SingleRow {
  ResultSink sink;  // first member: the sink handed to the path is the row
  FunctionCallInfo fcinfo;
  bool as_json;
  Datum row;                   // the email_verification row, unless as_json
  VerificationRecord* record;  // as_json: a copy for the JSON form
  RowTiming timing;
};

void keep_single_row(ResultSink* sink, const AddressBatch& batch, std::size_t,
                     TimestampTz checked_at) {
  SingleRow* out = reinterpret_cast<SingleRow*>(sink);
  FunctionCallInfo fcinfo = out->fcinfo;
  out->timing = row_timing(batch, checked_at);
  if (!out->as_json) {
    out->row = verification_record_to_datum(fcinfo, PG_GETARG_DATUM(0), batch.record, out->timing);
    return;
  }
  out->record = static_cast<VerificationRecord*>(palloc(sizeof(VerificationRecord)));
  memcpy(out->record, &batch.record, sizeof(VerificationRecord));
}

struct EntryPoint {
  const char* name;
  const char* submitting;
  const char* finishing;
};
constexpr EntryPoint kVerifyEmail{"verify_email", "verify_email submitting",
                                  "verify_email finishing"};
constexpr EntryPoint kCachedResult{"mailsentry.cached_result", "mailsentry.cached_result",
                                   "mailsentry.cached_result"};

SingleRow verify_one(FunctionCallInfo fcinfo, const EntryPoint& entry, bool cache_only,
                     bool as_json) {
  const Utf8Text input = text_as_utf8(PG_GETARG_TEXT_PP(0));
  BatchOptions options;
  options.entry_point = entry.name;
  options.submitting_point = entry.submitting;
  options.finishing_point = entry.finishing;
  options.cache_only = cache_only;
  if (!cache_only) {
    if (PG_NARGS() > 1 && !PG_ARGISNULL(1))
      options.depth_text = text_to_cstring(PG_GETARG_TEXT_PP(1));
    options.depth = depth_from_argument(options.depth_text);
    options.refresh = PG_NARGS() > 2 && !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
  }
  SingleRow row{{keep_single_row}, fcinfo, as_json, 0, nullptr, {0, 0}};
  const std::size_t networked = verify_in_backend(options, &input, 1, row.sink);
  if (!cache_only) note_network_verifications(networked);
  return row;
}

}  // namespace
}  // namespace mailsentry::pg

// The entry points keep the C linkage PG_FUNCTION_INFO_V1 declared above.
namespace mailsentry::pg {

extern "C" Datum verify_email(PG_FUNCTION_ARGS) {
  return verify_one(fcinfo, kVerifyEmail, false, false).row;
}

extern "C" Datum mailsentry_cached_result(PG_FUNCTION_ARGS) {
  return verify_one(fcinfo, kCachedResult, true, false).row;
}

extern "C" Datum verify_email_json(PG_FUNCTION_ARGS) {
  const SingleRow row = verify_one(fcinfo, kVerifyEmail, false, true);
  const VerificationRecord& record = *row.record;
  const Utf8Text email = text_as_utf8(PG_GETARG_TEXT_PP(0));
  const char* domain_created = "";
  if (record.domain_created_days.present)
    domain_created = DatumGetCString(
        DirectFunctionCall1(date_out, DateADTGetDatum(record.domain_created_days.value -
                                                      (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE))));
  const char* checked_at = DatumGetCString(
      DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(row.timing.checked_at)));
  CallContext<std::string> json = CallContext<std::string>::create("verify_email_json");
  raise_if_failed(run_guarded("verify_email_json",
                              [&] {
                                *json =
                                    record_to_json({email.data, email.size}, record, domain_created,
                                                   checked_at, row.timing.response_time_ms);
                              }),
                  "verify_email_json");
  text* server_text = utf8_to_text(json->data(), json->size());
  json.finish();
  return DirectFunctionCall1(jsonb_in, CStringGetDatum(text_to_cstring(server_text)));
}

}  // namespace mailsentry::pg
