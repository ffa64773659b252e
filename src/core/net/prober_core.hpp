// The prober's state and its flow, on the io_context thread: a job picks a
// host and waits in its queue; sessions leased from the pool carry batches
// of the waiting jobs; each finished transaction is settled (batch
// settlement), each answer concluded (catch-all status, extended-depth
// retry), each failure retried on the job's schedule. Shared with handlers
// through weak pointers so that the SmtpProber can go away with work in flight.
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "net/batch_settlement.hpp"
#include "net/catch_all_probes.hpp"
#include "net/host_queues.hpp"
#include "net/probe_batch.hpp"
#include "net/probe_job.hpp"
#include "net/smtp_pool.hpp"
#include "net/smtp_prober.hpp"

namespace mailsentry {

inline constexpr const char* kProberShutDownWarning = "prober shut down";

// Its member functions live in three files: prober_core.cpp (jobs, their
// conclusion, options and shutdown), prober_leases.cpp (host queues and
// leases), prober_batches.cpp (batches and their settlement).
class ProberCore : public std::enable_shared_from_this<ProberCore> {
 public:
  ProberCore(asio::io_context& io, HostResolver resolve_host, SmtpOptions options);

  void start(ProbeRequest request, std::function<void(ProbeResult)> done);
  void set_options(SmtpOptions options);
  void remember_catch_all(const std::string& domain, bool catch_all,
                          std::chrono::milliseconds ttl) {
    catch_all_.remember(domain, catch_all, ttl);
  }
  void restore_breaker(const std::string& host, std::chrono::milliseconds remaining) {
    pool_->restore_breaker(lower_host(host), remaining);
  }
  void shutdown();
  std::vector<SmtpProber::MxStats> stats() const { return pool_->stats(); }
  SmtpProber::OutboundState outbound_state() const { return pool_->outbound_state(); }

 private:
  // Attempts.
  void run_attempt(const JobPtr& job);
  void next_attempt(const JobPtr& job);
  // Host queues and leases.
  void enqueue(const JobPtr& job, bool front);
  void pump_host(const std::string& host);
  void on_lease(const std::string& host, SessionLease lease);
  void on_host_unusable(const std::string& host, const SessionLease& lease);
  void on_opening_failed(const std::string& host, const SessionLease& lease);
  void refuse_smtputf8(const std::string& host);
  void mark_host(const std::string& host, const HostMarks& marks);
  // Batches.
  BatchPtr take_batch(const std::string& host, int budget,
                      std::optional<bool> smtputf8 = std::nullopt);
  void run_batch(const BatchPtr& batch);
  void on_batch_done(const BatchPtr& batch, TransactionResult transaction);
  void apply_settlement(const BatchPtr& batch, const TransactionResult& transaction,
                        const std::vector<std::string>& transcript);
  bool continue_stream(const BatchPtr& finished);
  void release_session(const BatchPtr& batch);
  void fail_batch(const BatchPtr& batch, const std::string& warning);
  // Catch-all answers and conclusions.
  void end_probes(const BatchPtr& batch);
  void release_parked(const std::string& domain, const ProbeAnswer& answer);
  void conclude(const JobPtr& job);
  void schedule_depth_retry(const JobPtr& job, std::chrono::milliseconds delay);
  void finish(const JobPtr& job);

  asio::io_context& io_;
  std::shared_ptr<SmtpPool> pool_;
  CatchAllProbes catch_all_;
  std::unordered_map<std::uint64_t, JobPtr> jobs_;
  HostQueues queues_;
  std::unordered_set<BatchPtr> active_;  // transactions in flight (closed at shutdown)
  // A host whose streaming session is deciding what it sends next: its
  // queue asks the pool for no session meanwhile (the one in hand may do).
  std::string held_host_;
  std::uint64_t next_job_id_ = 1;
  bool shut_down_ = false;
};

}  // namespace mailsentry
