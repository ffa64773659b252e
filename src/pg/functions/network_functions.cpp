// verify_email(), verify_email_json() and mailsentry.cached_result(): the
// network-free checks here, the network facts from mailsentry.cache or from
// the worker (through the shared queue), the score here.
#include "base/postgres_headers.hpp"

extern "C" {
#include "mb/pg_wchar.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
}

#include <memory>
#include <string>

#include "base/guard.hpp"
#include "base/settings.hpp"
#include "base/text_encoding.hpp"
#include "checks/public_suffix.hpp"
#include "functions/depth_argument.hpp"
#include "functions/result_tuple.hpp"
#include "queue/request_queue.hpp"
#include "tables/cache_table.hpp"
#include "tables/user_config.hpp"
#include "verdict/engine_config.hpp"
#include "verdict/record_json.hpp"
#include "verdict/verification_record_fill.hpp"
#include "verdict/verification_steps.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(verify_email);
PG_FUNCTION_INFO_V1(verify_email_json);
PG_FUNCTION_INFO_V1(mailsentry_cached_result);
}

namespace mailsentry::pg {
namespace {

// Backend-local state of the call in progress. Globals, so that no C++
// object lives on a stack an ereport could unwind.
std::unique_ptr<Verification> current;
VerificationRecord result_record;
NetworkRequestPod request_pod;
NetworkFactsPod answer_pod;
std::string json_text;

struct CallOutcome {
  RowTiming timing;
};

CacheEntry cache_entry;

// A fresh cache entry deep enough for `depth`; counts the hit.
bool fresh_cache_entry(const NetworkRequestPod& request, Depth depth) {
  if (!read_cache_entry(request.address.bytes, request.address.size, cache_entry) ||
      !cache_entry_serves(cache_entry, depth))
    return false;
  if (shared_queue != nullptr) pg_atomic_fetch_add_u64(&shared_queue->stats.cache_hits, 1);
  return true;
}

// Runs one verification into result_record. PostgreSQL side: may ereport.
CallOutcome verify_into_record(text* email, const char* depth_text, bool refresh) {
  const TimestampTz started = GetCurrentTimestamp();
  Utf8Text input = text_as_utf8(email);
  ensure_user_config_current();

  bool needs_network = false;
  const Depth depth = depth_from_argument(depth_text);
  raise_if_failed(run_guarded("verify_email",
                              [&] {
                                current = std::make_unique<Verification>();
                                const std::optional<NetworkRequest> request = start_verification(
                                    {input.data, input.size}, depth, make_probe_settings(settings),
                                    current_lists(), *current);
                                if (request) {
                                  request_to_pod(*request, request_pod);
                                  needs_network = true;
                                }
                              }),
                  "verify_email");

  const bool cached = needs_network && !refresh && fresh_cache_entry(request_pod, depth);
  bool answered = false;
  if (needs_network && !cached) {
    require_worker_available();
    const int slot = claim_slot(settings.queue_wait_timeout_ms);
    memcpy(&shared_queue->slots[slot].request, &request_pod, sizeof request_pod);
    submit_slot(slot);
    answered = wait_for_answer(slot, effective_verify_timeout_ms());
    if (answered) {
      memcpy(&answer_pod, &shared_queue->slots[slot].answer, sizeof answer_pod);
      release_slot(slot);
    }
  }

  raise_if_failed(
      run_guarded("verify_email finishing",
                  [&] {
                    Verification& v = *current;
                    std::optional<NetworkFacts> facts;
                    if (cached)
                      facts = facts_from_pod(cache_entry.facts);
                    else if (answered)
                      facts = facts_from_pod(answer_pod);
                    finish_verification(
                        v, std::move(facts),
                        needs_network
                            ? "network checks did not finish within mailsentry.verify_timeout"
                            : "",
                        current_weights());
                    fill_record(v, depth_text, result_record);
                    result_record.cached = cached;
                    current.reset();
                  }),
      "verify_email");

  const TimestampTz finished = GetCurrentTimestamp();
  return {{cached ? cache_entry.checked_at : finished,
           static_cast<double>(finished - started) / 1000.0}};
}

// The verdict from the cache alone: no worker, no network.
CallOutcome cached_into_record(text* email) {
  const TimestampTz started = GetCurrentTimestamp();
  Utf8Text input = text_as_utf8(email);
  ensure_user_config_current();
  bool needs_network = false;
  raise_if_failed(run_guarded("mailsentry.cached_result",
                              [&] {
                                current = std::make_unique<Verification>();
                                const std::optional<NetworkRequest> request = start_verification(
                                    {input.data, input.size}, Depth::standard,
                                    make_probe_settings(settings), current_lists(), *current);
                                if (request) {
                                  request_to_pod(*request, request_pod);
                                  needs_network = true;
                                }
                              }),
                  "mailsentry.cached_result");
  const bool cached = needs_network && read_cache_entry(request_pod.address.bytes,
                                                        request_pod.address.size, cache_entry);
  raise_if_failed(
      run_guarded("mailsentry.cached_result",
                  [&] {
                    Verification& v = *current;
                    std::optional<NetworkFacts> facts;
                    if (cached) facts = facts_from_pod(cache_entry.facts);
                    finish_verification(v, std::move(facts), "", current_weights());
                    fill_record(
                        v, cached ? depth_name(static_cast<Depth>(cache_entry.depth)) : "standard",
                        result_record);
                    result_record.cached = cached;
                    current.reset();
                  }),
      "mailsentry.cached_result");
  const TimestampTz finished = GetCurrentTimestamp();
  return {{cached ? cache_entry.checked_at : finished,
           static_cast<double>(finished - started) / 1000.0}};
}

const char* depth_argument(FunctionCallInfo fcinfo) {
  return PG_NARGS() > 1 && !PG_ARGISNULL(1) ? text_to_cstring(PG_GETARG_TEXT_PP(1)) : "standard";
}

bool refresh_argument(FunctionCallInfo fcinfo) {
  return PG_NARGS() > 2 && !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
}

}  // namespace
}  // namespace mailsentry::pg

// The entry points keep the C linkage PG_FUNCTION_INFO_V1 declared above.
namespace mailsentry::pg {

extern "C" Datum verify_email(PG_FUNCTION_ARGS) {
  const CallOutcome outcome =
      verify_into_record(PG_GETARG_TEXT_PP(0), depth_argument(fcinfo), refresh_argument(fcinfo));
  return verification_record_to_datum(fcinfo, PG_GETARG_DATUM(0), result_record, outcome.timing);
}

extern "C" Datum mailsentry_cached_result(PG_FUNCTION_ARGS) {
  const CallOutcome outcome = cached_into_record(PG_GETARG_TEXT_PP(0));
  return verification_record_to_datum(fcinfo, PG_GETARG_DATUM(0), result_record, outcome.timing);
}

extern "C" Datum verify_email_json(PG_FUNCTION_ARGS) {
  const CallOutcome outcome =
      verify_into_record(PG_GETARG_TEXT_PP(0), depth_argument(fcinfo), refresh_argument(fcinfo));
  Utf8Text email = text_as_utf8(PG_GETARG_TEXT_PP(0));
  const char* domain_created = "";
  if (result_record.domain_created_days.present)
    domain_created = DatumGetCString(
        DirectFunctionCall1(date_out, DateADTGetDatum(result_record.domain_created_days.value -
                                                      (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE))));
  const char* checked_at = DatumGetCString(
      DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(outcome.timing.checked_at)));
  raise_if_failed(run_guarded("verify_email_json",
                              [&] {
                                json_text = record_to_json({email.data, email.size}, result_record,
                                                           domain_created, checked_at,
                                                           outcome.timing.response_time_ms);
                              }),
                  "verify_email_json");
  text* server_text = utf8_to_text(json_text.data(), json_text.size());
  return DirectFunctionCall1(jsonb_in, CStringGetDatum(text_to_cstring(server_text)));
}

}  // namespace mailsentry::pg
