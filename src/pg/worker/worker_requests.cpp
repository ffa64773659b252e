#include "worker/worker_requests.hpp"

#include <unordered_map>

#include "verdict/verification_steps.hpp"

namespace mailsentry::pg {

namespace {

NetworkEngine* engine = nullptr;
std::unordered_map<std::uint64_t, InternalRequest> requests;
std::unordered_map<std::int64_t, std::size_t> per_job;
std::size_t per_kind[3] = {0, 0, 0};
std::uint64_t next_tag = 1;

}  // namespace

NetworkEngine* worker_engine() { return engine; }
void set_worker_engine(NetworkEngine* e) { engine = e; }

void describe_request(const NetworkRequest& request, CacheWrite& meta) {
  meta.address.assign(request.address);
  meta.domain.assign(request.domain);
  meta.registrable_domain.assign_or_null(request.registrable_domain);
  meta.depth = request.depth;
  meta.mx_only = request.mx_only;
}

void submit_internal(InternalRequest request, NetworkRequest network) {
  if (engine == nullptr) throw std::logic_error("the network engine is not running");
  const std::uint64_t tag = next_tag++;  // only names the request: its origin is in `requests`
  complete_network_request(network);
  describe_request(network, request.meta);
  const InternalKind kind = request.kind;
  const std::int64_t job_id = request.job_id;
  requests.emplace(tag, std::move(request));
  ++per_kind[static_cast<int>(kind)];
  if (kind == InternalKind::job_item) ++per_job[job_id];
  engine->submit(tag, std::move(network));
}

bool take_internal(std::uint64_t tag, InternalRequest& out) {
  const auto it = requests.find(tag);
  if (it == requests.end()) return false;
  out = std::move(it->second);
  requests.erase(it);
  --per_kind[static_cast<int>(out.kind)];
  if (out.kind == InternalKind::job_item) {
    const auto job = per_job.find(out.job_id);
    if (job != per_job.end() && --job->second == 0) per_job.erase(job);
  }
  return true;
}

std::size_t internal_in_flight(InternalKind kind) { return per_kind[static_cast<int>(kind)]; }

std::size_t job_items_in_flight(std::int64_t job_id) {
  const auto it = per_job.find(job_id);
  return it == per_job.end() ? 0 : it->second;
}

void forget_job(std::int64_t job_id) {
  for (auto& [tag, request] : requests)
    if (request.kind == InternalKind::job_item && request.job_id == job_id) request.job_id = 0;
  per_job.erase(job_id);
}

}  // namespace mailsentry::pg
