// verify_email() and verify_email_json(): the network-free checks here, the
// network checks in the worker (through the shared queue), the score here.
#include "postgres_headers.hpp"

extern "C" {
#include "mb/pg_wchar.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
}

#include <memory>
#include <string>

#include "guard.hpp"
#include "public_suffix.hpp"
#include "record_json.hpp"
#include "request_queue.hpp"
#include "result_tuple.hpp"
#include "settings.hpp"
#include "engine_config.hpp"
#include "text_encoding.hpp"
#include "user_config.hpp"
#include "verification_record_fill.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(verify_email);
PG_FUNCTION_INFO_V1(verify_email_json);
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

// Runs one verification into result_record. PostgreSQL side: may ereport.
CallOutcome verify_into_record(text* email, const char* depth_text) {
  const TimestampTz started = GetCurrentTimestamp();
  Utf8Text input = text_as_utf8(email);
  require_worker_available();
  ensure_user_config_current();

  bool needs_network = false;
  bool bad_depth = false;
  raise_if_failed(run_guarded("verify_email", [&] {
    Depth depth;
    if (!parse_depth(depth_text, depth)) {
      bad_depth = true;
      return;
    }
    current = std::make_unique<Verification>(
        check_offline({input.data, input.size}, current_lists()));
    Verification& v = *current;
    // Invalid syntax, a provider format violation or a system address end
    // the verification here; a domain typo only asks whether the typo domain
    // has mail servers of its own.
    const bool final_without_network =
        !v.address.valid || !v.provider.format_violation.empty() ||
        v.role.tier == RoleTier::system;
    if (final_without_network) {
      v.offline = false;
      return;
    }
    if (v.address.address_literal) {
      v.offline = false;
      v.network.warnings.push_back("address literal: no DNS or SMTP check");
      return;
    }
    NetworkRequest request;
    request.address = v.address.normalized();
    request.domain = v.address.domain;
    request.registrable_domain = registrable_domain(v.address.domain);
    request.needs_smtputf8 = v.address.utf8_local;
    request.mx_only = v.typo.domain_typo;
    request.depth = depth;
    request.smtp = make_probe_settings(settings);
    request_to_pod(request, request_pod);
    needs_network = true;
  }), "verify_email");
  if (bad_depth)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("mailsentry: unknown depth \"%s\"", depth_text),
                    errhint("Use 'quick', 'standard' or 'extended'.")));

  bool answered = false;
  if (needs_network) {
    const int slot = claim_slot(settings.queue_wait_timeout_ms);
    memcpy(&shared_queue->slots[slot].request, &request_pod, sizeof request_pod);
    submit_slot(slot);
    answered = wait_for_answer(slot, settings.verify_timeout_ms);
    if (answered) {
      memcpy(&answer_pod, &shared_queue->slots[slot].answer, sizeof answer_pod);
      release_slot(slot);
    }
  }

  raise_if_failed(run_guarded("verify_email", [&] {
    Verification& v = *current;
    if (needs_network) {
      NetworkFacts facts;
      if (answered) {
        facts = facts_from_pod(answer_pod);
      } else {
        facts.warnings.push_back("network checks did not finish within mailsentry.verify_timeout");
      }
      apply_network_facts(v, std::move(facts));
    }
    assess(v, current_weights());
    fill_record(v, depth_text, result_record);
    current.reset();
  }), "verify_email");

  const TimestampTz finished = GetCurrentTimestamp();
  return {{finished, static_cast<double>(finished - started) / 1000.0}};
}

const char* depth_argument(FunctionCallInfo fcinfo) {
  return PG_NARGS() > 1 && !PG_ARGISNULL(1) ? text_to_cstring(PG_GETARG_TEXT_PP(1)) : "standard";
}

}  // namespace
}  // namespace mailsentry::pg

using namespace mailsentry::pg;

extern "C" Datum verify_email(PG_FUNCTION_ARGS) {
  const CallOutcome outcome = verify_into_record(PG_GETARG_TEXT_PP(0), depth_argument(fcinfo));
  return verification_record_to_datum(fcinfo, PG_GETARG_DATUM(0), result_record, outcome.timing);
}

extern "C" Datum verify_email_json(PG_FUNCTION_ARGS) {
  const CallOutcome outcome = verify_into_record(PG_GETARG_TEXT_PP(0), depth_argument(fcinfo));
  Utf8Text email = text_as_utf8(PG_GETARG_TEXT_PP(0));
  const char* domain_created = "";
  if (result_record.domain_created_days.present)
    domain_created = DatumGetCString(DirectFunctionCall1(
        date_out, DateADTGetDatum(result_record.domain_created_days.value -
                                  (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE))));
  const char* checked_at = DatumGetCString(
      DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(outcome.timing.checked_at)));
  raise_if_failed(run_guarded("verify_email_json", [&] {
    json_text = record_to_json({email.data, email.size}, result_record, domain_created, checked_at,
                               outcome.timing.response_time_ms);
  }), "verify_email_json");
  text* server_text = utf8_to_text(json_text.data(), json_text.size());
  return DirectFunctionCall1(jsonb_in, CStringGetDatum(text_to_cstring(server_text)));
}
