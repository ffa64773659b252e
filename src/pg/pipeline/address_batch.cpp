#include "pipeline/address_batch.hpp"

extern "C" {
#include "utils/timestamp.h"
}

#include <algorithm>
#include <string_view>
#include <vector>

#include "base/guard.hpp"
#include "base/settings.hpp"
#include "queue/request_queue.hpp"
#include "tables/user_config.hpp"
#include "verdict/engine_config.hpp"
#include "verdict/first_occurrences.hpp"
#include "verdict/verification_record_fill.hpp"

namespace mailsentry::pg {

namespace {

constexpr const char* kTimedOut = "network checks did not finish within mailsentry.verify_timeout";

void count_cache_hit() {
  if (shared_queue != nullptr) pg_atomic_fetch_add_u64(&shared_queue->stats.cache_hits, 1);
}

// Whether the cache entry of `address` (read into batch.cache_entry) gives
// its input the facts.
bool cache_serves(AddressBatch& batch, const Utf8Text& address) {
  if (!read_cache_entry(address.data, address.size, batch.cache_entry)) return false;
  // mailsentry.cached_result takes any entry, as deep and as old as it is.
  if (batch.options.cache_only) return true;
  if (!cache_entry_serves(batch.cache_entry, batch.options.depth)) return false;
  if (batch.options.count_cache_hits) count_cache_hit();
  return true;
}

}  // namespace

void start_batch(AddressBatch& batch, const BatchOptions& options, const Utf8Text* texts,
                 int count) {
  const TimestampTz started = GetCurrentTimestamp();
  ensure_user_config_current();
  raise_if_failed(
      run_guarded(options.entry_point,
                  [&] {
                    batch.options = options;
                    batch.depth_text = options.depth_text;
                    batch.started = started;
                    batch.inputs.reserve(static_cast<std::size_t>(count));
                    // One input needs no set to be distinct (verify_email).
                    if (!options.distinct || count == 1) {
                      for (int i = 0; i < count; ++i)
                        batch.inputs.emplace_back().text = {texts[i].data, texts[i].size};
                      return;
                    }
                    std::vector<std::string_view> views;
                    views.reserve(static_cast<std::size_t>(count));
                    for (int i = 0; i < count; ++i)
                      views.emplace_back(texts[i].data, texts[i].size);
                    for (const std::size_t first : first_occurrences(views))
                      batch.inputs.emplace_back().text = views[first];
                  }),
      options.entry_point);
}

namespace {

void check_offline(AddressBatch& batch, std::size_t begin, std::size_t end) {
  raise_if_failed(run_guarded(batch.options.entry_point,
                              [&] {
                                const ProbeSettings probe = make_probe_settings(settings);
                                const Depth depth = batch.options.depth;
                                for (std::size_t i = begin; i < end; ++i) {
                                  BatchInput& input = batch.inputs[i];
                                  input.started = std::make_unique<StartedInput>();
                                  input.started->request =
                                      start_verification(input.text, depth, probe, current_lists(),
                                                         input.started->v, &current_typo_memo());
                                }
                              }),
                  batch.options.entry_point);
}

void serve_from_cache(AddressBatch& batch, ResultSink& sink, std::size_t begin, std::size_t end) {
  for (std::size_t input = begin; input < end; ++input) {
    // The cache key, viewed in the request (plain data: a pointer and a size).
    const std::optional<NetworkRequest>& request = batch.inputs[input].started->request;
    if (!request) {
      finish_input(batch, sink, input, nullptr, false, 0, "");
      continue;
    }
    const Utf8Text address{request->address.data(), request->address.size()};
    if (!batch.options.refresh && cache_serves(batch, address)) {
      finish_input(batch, sink, input, &batch.cache_entry.facts, true, batch.cache_entry.checked_at,
                   "");
      continue;
    }
    if (batch.options.cache_only) {
      finish_input(batch, sink, input, nullptr, false, 0, "");
      continue;
    }
    raise_if_failed(run_guarded(batch.options.entry_point,
                                [&] {
                                  const auto [it, inserted] = batch.pending_by_address.emplace(
                                      std::string(address.data, address.size),
                                      batch.pending.size());
                                  // A spelling met after its mailbox was answered (in an
                                  // earlier window) is a mailbox of its own again.
                                  if (!inserted && !batch.pending[it->second].finished) {
                                    batch.pending[it->second].more_inputs.push_back(input);
                                    return;
                                  }
                                  it->second = batch.pending.size();
                                  batch.pending.emplace_back().first_input = input;
                                }),
                    batch.options.entry_point);
  }
}

}  // namespace

std::size_t prepare_next(AddressBatch& batch, ResultSink& sink, std::size_t max_inputs) {
  const std::size_t begin = batch.prepared;
  const std::size_t end = begin + std::min(max_inputs, batch.inputs.size() - begin);
  check_offline(batch, begin, end);
  serve_from_cache(batch, sink, begin, end);
  batch.prepared = end;
  return end - begin;
}

void finish_input(AddressBatch& batch, ResultSink& sink, std::size_t input,
                  const NetworkFactsPod* facts, bool cached, TimestampTz checked_at,
                  const char* missing_reason) {
  raise_if_failed(
      run_guarded(batch.options.finishing_point,
                  [&] {
                    Verification& v = batch.inputs[input].started->v;
                    std::optional<NetworkFacts> network;
                    if (facts != nullptr) network = facts_from_pod(*facts);
                    finish_verification(v, std::move(network), missing_reason, current_weights());
                    // mailsentry.cached_result reports the depth of what it found.
                    const std::string_view depth =
                        batch.options.cache_only
                            ? depth_name(cached ? batch.cache_entry.depth : Depth::standard)
                            : std::string_view(batch.depth_text);
                    fill_record(v, depth, batch.record);
                    batch.record.cached = cached;
                  }),
      batch.options.entry_point);
  sink.emit(&sink, batch, input, checked_at);
  // The input's work is done: give its memory back while the rest waits.
  raise_if_failed(
      run_guarded(batch.options.entry_point, [&] { batch.inputs[input].started.reset(); }),
      batch.options.entry_point);
}

void finish_pending(AddressBatch& batch, ResultSink& sink, std::size_t index,
                    const NetworkFactsPod* facts) {
  const char* reason = facts != nullptr ? "" : kTimedOut;
  // Copied first: finishing may not touch the vector, but keep no reference
  // into it across PostgreSQL calls.
  const std::size_t first = batch.pending[index].first_input;
  finish_input(batch, sink, first, facts, false, 0, reason);
  for (std::size_t k = 0; k < batch.pending[index].more_inputs.size(); ++k)
    finish_input(batch, sink, batch.pending[index].more_inputs[k], facts, false, 0, reason);
  batch.pending[index].finished = true;
  ++batch.finished_pending;
}

}  // namespace mailsentry::pg
