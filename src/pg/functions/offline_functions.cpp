// SQL entry points of the network-free checks. Each one: PostgreSQL work
// (argument decoding, override loading) first, then the C++ checks inside
// run_guarded(), then PostgreSQL work on plain data only.
#include "base/postgres_headers.hpp"

extern "C" {
#include "utils/timestamp.h"
}

#include "base/guard.hpp"
#include "base/text_encoding.hpp"
#include "functions/result_tuple.hpp"
#include "tables/user_config.hpp"
#include "verdict/verification_record_fill.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(email_syntax_valid);
PG_FUNCTION_INFO_V1(email_normalize);
PG_FUNCTION_INFO_V1(email_suggest);
PG_FUNCTION_INFO_V1(email_check_offline);
}

namespace mailsentry::pg {
namespace {

// Holds a bounded string computed by C++ until PostgreSQL copies it (plain
// data: safe on a stack an ereport may unwind).
struct ShortText {
  bool present;
  FixedText<400> text;
};

}  // namespace
}  // namespace mailsentry::pg

// The entry points keep the C linkage PG_FUNCTION_INFO_V1 declared above.
namespace mailsentry::pg {

extern "C" Datum email_syntax_valid(PG_FUNCTION_ARGS) {
  Utf8Text input = text_as_utf8(PG_GETARG_TEXT_PP(0));
  bool valid = false;
  raise_if_failed(run_guarded("email_syntax_valid",
                              [&] {
                                valid = is_valid_address({input.data, input.size});
                              }),
                  "email_syntax_valid");
  PG_RETURN_BOOL(valid);
}

extern "C" Datum email_normalize(PG_FUNCTION_ARGS) {
  Utf8Text input = text_as_utf8(PG_GETARG_TEXT_PP(0));
  ShortText normalized{};
  raise_if_failed(run_guarded("email_normalize",
                              [&] {
                                ParsedAddress address = parse_address({input.data, input.size});
                                normalized.present = address.valid;
                                if (address.valid) normalized.text.assign(address.normalized());
                              }),
                  "email_normalize");
  if (!normalized.present) PG_RETURN_NULL();
  PG_RETURN_TEXT_P(utf8_to_text(normalized.text.bytes, normalized.text.size));
}

extern "C" Datum email_suggest(PG_FUNCTION_ARGS) {
  Utf8Text input = text_as_utf8(PG_GETARG_TEXT_PP(0));
  ensure_user_config_current();
  ShortText suggestion{};
  raise_if_failed(
      run_guarded("email_suggest",
                  [&] {
                    TypoResult typo = suggest_typo({input.data, input.size}, current_lists());
                    suggestion.present = typo.has_typo;
                    if (typo.has_typo) suggestion.text.assign(typo.suggestion);
                  }),
      "email_suggest");
  if (!suggestion.present) PG_RETURN_NULL();
  PG_RETURN_TEXT_P(utf8_to_text(suggestion.text.bytes, suggestion.text.size));
}

extern "C" Datum email_check_offline(PG_FUNCTION_ARGS) {
  const TimestampTz started = GetCurrentTimestamp();
  Datum email = PG_GETARG_DATUM(0);
  Utf8Text input = text_as_utf8(PG_GETARG_TEXT_PP(0));
  ensure_user_config_current();
  auto* record = static_cast<VerificationRecord*>(palloc0(sizeof(VerificationRecord)));
  raise_if_failed(
      run_guarded("email_check_offline",
                  [&] {
                    Verification v = check_offline({input.data, input.size}, current_lists());
                    assess(v, current_weights());
                    fill_record(v, "offline", *record);
                  }),
      "email_check_offline");
  const TimestampTz finished = GetCurrentTimestamp();
  RowTiming timing{finished, static_cast<double>(finished - started) / 1000.0};
  return verification_record_to_datum(fcinfo, email, *record, timing);
}

}  // namespace mailsentry::pg
