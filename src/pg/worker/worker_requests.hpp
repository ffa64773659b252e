// Every request the worker has handed to its engine, by engine tag, with its
// origin: a backend's call (answered through its queue slot), a background
// job's item or a re-probe of an inconclusive answer. What the cache write
// needs is described once, when the request is taken, so the verdict is
// cached even after the backend gave its slot up. Worker process only; C++
// side (call inside run_guarded()) unless marked.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "net/network_engine.hpp"
#include "tables/cache_writer.hpp"
#include "verdict/verification.hpp"

namespace mailsentry::pg {

enum class InternalKind : std::uint8_t { job_item, reprobe, backend_call };

struct InternalRequest {
  InternalKind kind = InternalKind::job_item;
  std::int64_t job_id = 0;
  std::int64_t item = 0;
  // Job items: the network-free checks, run once when the item was started.
  std::unique_ptr<Verification> started;
  int slot = -1;  // backend calls: the queue slot and the ticket of its claim
  std::uint32_t ticket = 0;
  CacheWrite meta{};  // what the cache write needs besides the facts
};

// The worker's engine (nullptr before it started).
NetworkEngine* worker_engine();
void set_worker_engine(NetworkEngine* engine);

// Registers the request and hands it to the engine.
void submit_internal(InternalRequest request, NetworkRequest network);
// Removes and returns the request of a completion; false when unknown.
bool take_internal(std::uint64_t tag, InternalRequest& out);
// In flight: all of a kind, or the job items of one job.
std::size_t internal_in_flight(InternalKind kind);
std::size_t job_items_in_flight(std::int64_t job_id);
// A cancelled job's items still in flight: their verdicts are cached, not counted.
void forget_job(std::int64_t job_id);

// Fills the cache-write description of a request (C++ only).
void describe_request(const NetworkRequest& request, CacheWrite& meta);

}  // namespace mailsentry::pg
