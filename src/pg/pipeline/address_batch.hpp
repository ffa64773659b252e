// The path of addresses from SQL text to verdicts that every caller shares
// (verify_email, verify_emails, mailsentry.cached_result and the worker's
// jobs): the network-free checks once per address, the cache and its
// freshness rule, and the verdict from whatever facts came. Only the hand-off
// differs: backends queue for the worker (pipeline/worker_handoff), the
// worker's jobs submit to its engine.
//
// Functions marked "PostgreSQL side" may ereport and run no C++ outside
// run_guarded(); the batch itself lives in a CallContext.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/postgres_headers.hpp"
#include "base/text_encoding.hpp"
#include "tables/cache_table.hpp"
#include "verdict/verification_record.hpp"
#include "verdict/verification_steps.hpp"

namespace mailsentry::pg {

struct BatchOptions {
  // Static text naming the guarded steps (mailsentry.debug_fail_point) and
  // the errors: the call, handing a request over, finishing a verdict.
  const char* entry_point;
  const char* submitting_point;
  const char* finishing_point;
  Depth depth = Depth::standard;
  const char* depth_text = "standard";  // as the caller wrote it
  bool refresh = false;                 // never serve from the cache
  bool cache_only = false;              // mailsentry.cached_result: the cache or nothing
  bool distinct = true;                 // one row per distinct input text
  bool count_cache_hits = true;         // in mailsentry.stats (callers' hits only)
};

// What the network-free checks leave for the rest of an input's path.
struct StartedInput {
  Verification v;                         // the checks, run once
  std::optional<NetworkRequest> request;  // when the network can still change the verdict
};

struct BatchInput {
  std::string text;  // UTF-8, as given
  // From the checks until the verdict is handed on (a window's inputs only).
  std::unique_ptr<StartedInput> started;
};

// One normalized address the network has to answer; several inputs may share
// it ("Jane@x.org" and "jane@X.ORG" are one mailbox, two output rows).
struct PendingAddress {
  std::size_t first_input = 0;
  std::vector<std::size_t> more_inputs;
  int slot = -1;  // the queue slot while a backend waits for it
  TimestampTz submitted_at = 0;
  bool finished = false;
};

struct AddressBatch {
  BatchOptions options;
  std::string depth_text;
  TimestampTz started = 0;
  std::vector<BatchInput> inputs;
  std::size_t prepared = 0;  // inputs [0, prepared) are checked, cached or pending
  std::vector<PendingAddress> pending;
  std::unordered_map<std::string, std::size_t> pending_by_address;
  std::size_t finished_pending = 0;

  // Plain data that PostgreSQL code reads and writes.
  CacheEntry cache_entry;
  NetworkRequestPod request_pod;
  NetworkFactsPod answer_pod;
  VerificationRecord record;
};

// Receives each finished input, its record in batch.record. PostgreSQL side.
struct ResultSink {
  void (*emit)(ResultSink* sink, const AddressBatch& batch, std::size_t input,
               TimestampTz checked_at);
};

// Sets the batch up and takes its inputs (distinct ones in order of first
// appearance, unless options.distinct is off). PostgreSQL side.
void start_batch(AddressBatch& batch, const BatchOptions& options, const Utf8Text* texts,
                 int count);

// Prepares the next `max_inputs` inputs not prepared yet: runs their
// network-free checks, finishes (in input order) those that need no network
// or that the cache answers, and groups the rest into batch.pending.
// Returns how many it prepared. PostgreSQL side.
std::size_t prepare_next(AddressBatch& batch, ResultSink& sink, std::size_t max_inputs);

// The verdict of `input` from `facts` (nullptr: none came, for `missing_reason`)
// into batch.record, and hands it to the sink. PostgreSQL side.
void finish_input(AddressBatch& batch, ResultSink& sink, std::size_t input,
                  const NetworkFactsPod* facts, bool cached, TimestampTz checked_at,
                  const char* missing_reason);

// Every input of pending address `index`, finished from `facts` (nullptr:
// none came within mailsentry.verify_timeout).
void finish_pending(AddressBatch& batch, ResultSink& sink, std::size_t index,
                    const NetworkFactsPod* facts);

}  // namespace mailsentry::pg
