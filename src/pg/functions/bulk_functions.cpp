// verify_emails(): many addresses in one call. Network-free verdicts and
// fresh cache entries are returned first (in input order), the others are
// handed to the worker together - as many at once as half the request queue
// holds - and returned as they finish. The worker writes every verdict to
// the cache before it answers, so a cancel keeps the ones already reached.
#include "base/postgres_headers.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/array.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/guard.hpp"
#include "base/settings.hpp"
#include "base/text_encoding.hpp"
#include "functions/depth_argument.hpp"
#include "functions/result_tuple.hpp"
#include "queue/request_queue.hpp"
#include "tables/cache_table.hpp"
#include "tables/user_config.hpp"
#include "verdict/engine_config.hpp"
#include "verdict/verification_record_fill.hpp"
#include "verdict/verification_steps.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(verify_emails);
}

namespace mailsentry::pg {
namespace {

// One normalized address that needs the worker; several inputs may share it
// ("Jane@x.org" and "jane@X.ORG" are one mailbox, two output rows).
struct PendingAddress {
  std::size_t first_input = 0;
  std::vector<std::size_t> more_inputs;
  int slot = -1;
  TimestampTz submitted_at = 0;
};

// The call in progress. A global, so that no C++ object lives on a stack an
// ereport could unwind; replaced at the start of the next call.
struct BulkCall {
  Depth depth = Depth::standard;
  std::string depth_text;
  std::vector<std::string> inputs;  // distinct, in order of first appearance
  std::vector<PendingAddress> pending;
  std::unordered_map<std::string, std::size_t> pending_by_address;
  std::vector<std::size_t> in_flight;  // indices into `pending`; capacity reserved up front
  std::size_t next_to_submit = 0;
  std::size_t finished = 0;
  Verification v;
};
std::unique_ptr<BulkCall> call;

NetworkRequestPod request_pod;
NetworkFactsPod answer_pod;
CacheEntry cache_entry;
VerificationRecord record;

// Frees the call's C++ state when the statement's memory goes, also after
// a cancel (the next call would replace it anyway; this returns the memory).
void free_call(void*) {
  (void)run_guarded("verify_emails", [] { call.reset(); });
}

struct Output {
  Tuplestorestate* store;
  TupleDesc desc;
  MemoryContext row_context;
  TimestampTz started;
};

void emit(const Output& out, std::size_t input, TimestampTz checked_at) {
  MemoryContext old = MemoryContextSwitchTo(out.row_context);
  const std::string& text = call->inputs[input];
  Datum values[kResultColumnCount];
  bool nulls[kResultColumnCount];
  const TimestampTz now = GetCurrentTimestamp();
  const RowTiming timing{checked_at != 0 ? checked_at : now,
                         static_cast<double>(now - out.started) / 1000.0};
  verification_record_values(PointerGetDatum(utf8_to_text(text.data(), text.size())), record,
                             timing, values, nulls);
  tuplestore_putvalues(out.store, out.desc, values, nulls);
  MemoryContextSwitchTo(old);
  MemoryContextReset(out.row_context);
}

// Fills `record` for input `input` (its network-free checks run again: cheap,
// and nothing per address has to be kept while the worker is busy).
void finish_input(std::size_t input, const NetworkFactsPod* facts, bool cached,
                  const char* missing_reason) {
  raise_if_failed(
      run_guarded("verify_emails finishing",
                  [&] {
                    BulkCall& c = *call;
                    (void)start_verification(c.inputs[input], c.depth,
                                             make_probe_settings(settings), current_lists(), c.v);
                    std::optional<NetworkFacts> network;
                    if (facts != nullptr) network = facts_from_pod(*facts);
                    finish_verification(c.v, std::move(network), missing_reason, current_weights());
                    fill_record(c.v, c.depth_text, record);
                    record.cached = cached;
                  }),
      "verify_emails");
}

void finish_pending(const Output& out, std::size_t index, const NetworkFactsPod* facts) {
  const char* reason =
      facts ? "" : "network checks did not finish within mailsentry.verify_timeout";
  const PendingAddress& p = call->pending[index];
  finish_input(p.first_input, facts, false, reason);
  emit(out, p.first_input, 0);
  for (std::size_t more : p.more_inputs) {
    finish_input(more, facts, false, reason);
    emit(out, more, 0);
  }
  ++call->finished;
}

// Hands pending address `index` to the worker in `slot`; the slot is given
// back when the request cannot be built.
void submit_pending(std::size_t index, int slot) {
  const GuardResult built = run_guarded("verify_emails submitting", [&] {
    BulkCall& c = *call;
    const std::optional<NetworkRequest> request =
        start_verification(c.inputs[c.pending[index].first_input], c.depth,
                           make_probe_settings(settings), current_lists(), c.v);
    if (!request) throw std::logic_error("an address needing no network was queued");
    request_to_pod(*request, request_pod);
  });
  if (built.failed) abandon_slot(slot);
  raise_if_failed(built, "verify_emails");
  memcpy(&shared_queue->slots[slot].request, &request_pod, sizeof request_pod);
  submit_slot(slot);
  PendingAddress& p = call->pending[index];
  p.slot = slot;
  p.submitted_at = GetCurrentTimestamp();
  call->in_flight.push_back(index);  // never reallocates: capacity reserved
}

// Collects answers and timeouts; true when something finished.
bool collect(const Output& out) {
  bool progress = false;
  std::vector<std::size_t>& flight = call->in_flight;
  for (std::size_t k = 0; k < flight.size();) {
    const std::size_t index = flight[k];
    const int slot = call->pending[index].slot;
    const NetworkFactsPod* facts = nullptr;
    if (slot_answered(slot)) {
      memcpy(&answer_pod, &shared_queue->slots[slot].answer, sizeof answer_pod);
      release_slot(slot);
      facts = &answer_pod;
    } else if ((GetCurrentTimestamp() - call->pending[index].submitted_at) / 1000 >=
               effective_verify_timeout_ms()) {
      abandon_slot(slot);
      pg_atomic_fetch_add_u64(&shared_queue->stats.timeouts, 1);
    } else {
      ++k;
      continue;
    }
    flight[k] = flight.back();
    flight.pop_back();
    finish_pending(out, index, facts);
    progress = true;
  }
  return progress;
}

// Keeps as many addresses with the worker as this session's share of the
// queue allows (mailsentry.queue_slots_per_backend and _per_role).
void run_network_phase(const Output& out) {
  raise_if_failed(
      run_guarded(
          "verify_emails",
          [&] { call->in_flight.reserve(static_cast<std::size_t>(shared_queue->slot_count)); }),
      "verify_emails");
  TimestampTz worker_missing_since = 0;
  PG_TRY();
  {
    while (call->finished < call->pending.size()) {
      for (int room = claimable_slots(); room > 0 && call->next_to_submit < call->pending.size();
           --room) {
        const int slot = try_claim_slot();
        if (slot < 0) break;
        submit_pending(call->next_to_submit++, slot);
      }
      // Nothing in flight and no room: wait for a slot like verify_email().
      if (call->in_flight.empty() && call->next_to_submit < call->pending.size())
        submit_pending(call->next_to_submit++, claim_slot(settings.queue_wait_timeout_ms));
      if (collect(out)) continue;
      check_worker_alive(&worker_missing_since);
      (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 100,
                      PG_WAIT_EXTENSION);
      ResetLatch(MyLatch);
      CHECK_FOR_INTERRUPTS();
    }
  }
  PG_CATCH();
  {
    // Cancelled or failed: the slots are free at once; the worker still
    // finishes (and caches) what it took.
    for (std::size_t index : call->in_flight) abandon_slot(call->pending[index].slot);
    call->in_flight.clear();
    PG_RE_THROW();
  }
  PG_END_TRY();
}

}  // namespace
}  // namespace mailsentry::pg

// The entry points keep the C linkage PG_FUNCTION_INFO_V1 declared above.
namespace mailsentry::pg {

extern "C" Datum verify_emails(PG_FUNCTION_ARGS) {
  ArrayType* array = PG_GETARG_ARRAYTYPE_P(0);
  const char* depth_text =
      PG_NARGS() > 1 && !PG_ARGISNULL(1) ? text_to_cstring(PG_GETARG_TEXT_PP(1)) : "standard";
  const bool refresh = PG_NARGS() > 2 && !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
  ensure_user_config_current();

  const Depth depth = depth_from_argument(depth_text);
  raise_if_failed(run_guarded("verify_emails",
                              [&] {
                                call = std::make_unique<BulkCall>();
                                call->depth = depth;
                                call->depth_text = depth_text;
                              }),
                  "verify_emails");

  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  auto* free_callback = static_cast<MemoryContextCallback*>(MemoryContextAllocZero(
      rsinfo->econtext->ecxt_per_query_memory, sizeof(MemoryContextCallback)));
  free_callback->func = free_call;
  MemoryContextRegisterResetCallback(rsinfo->econtext->ecxt_per_query_memory, free_callback);
  check_result_descriptor(rsinfo->setDesc);
  Output out{rsinfo->setResult, rsinfo->setDesc,
             AllocSetContextCreate(CurrentMemoryContext, "mailsentry verify_emails row",
                                   ALLOCSET_SMALL_SIZES),
             GetCurrentTimestamp()};

  // Distinct non-NULL inputs, in order of first appearance.
  Datum* elements;
  bool* element_nulls;
  int element_count;
  deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elements, &element_nulls,
                    &element_count);
  Utf8Text* texts = static_cast<Utf8Text*>(palloc(sizeof(Utf8Text) * (element_count + 1)));
  int text_count = 0;
  for (int i = 0; i < element_count; ++i)
    if (!element_nulls[i]) texts[text_count++] = text_as_utf8(DatumGetTextPP(elements[i]));
  raise_if_failed(run_guarded("verify_emails",
                              [&] {
                                std::unordered_set<std::string_view> seen;
                                for (int i = 0; i < text_count; ++i)
                                  if (seen.insert({texts[i].data, texts[i].size}).second)
                                    call->inputs.emplace_back(texts[i].data, texts[i].size);
                              }),
                  "verify_emails");

  // Network-free verdicts and cache hits at once; the rest wait for the worker.
  for (std::size_t input = 0; input < call->inputs.size(); ++input) {
    bool needs_network = false;
    raise_if_failed(run_guarded("verify_emails",
                                [&] {
                                  const std::optional<NetworkRequest> request = start_verification(
                                      call->inputs[input], call->depth,
                                      make_probe_settings(settings), current_lists(), call->v);
                                  if (request) {
                                    request_to_pod(*request, request_pod);
                                    needs_network = true;
                                  }
                                }),
                    "verify_emails");
    if (!needs_network) {
      finish_input(input, nullptr, false, "");
      emit(out, input, 0);
      continue;
    }
    if (!refresh &&
        read_cache_entry(request_pod.address.bytes, request_pod.address.size, cache_entry) &&
        cache_entry_serves(cache_entry, call->depth)) {
      if (shared_queue != nullptr) pg_atomic_fetch_add_u64(&shared_queue->stats.cache_hits, 1);
      finish_input(input, &cache_entry.facts, true, "");
      emit(out, input, cache_entry.checked_at);
      continue;
    }
    raise_if_failed(run_guarded("verify_emails",
                                [&] {
                                  BulkCall& c = *call;
                                  const std::string address(request_pod.address.view());
                                  const auto [it, inserted] =
                                      c.pending_by_address.emplace(address, c.pending.size());
                                  if (inserted) {
                                    c.pending.emplace_back();
                                    c.pending.back().first_input = input;
                                  } else {
                                    c.pending[it->second].more_inputs.push_back(input);
                                  }
                                }),
                    "verify_emails");
  }

  if (!call->pending.empty()) {
    require_worker_available();
    run_network_phase(out);
  }
  raise_if_failed(run_guarded("verify_emails", [] { call.reset(); }), "verify_emails");
  return (Datum)0;
}

}  // namespace mailsentry::pg
