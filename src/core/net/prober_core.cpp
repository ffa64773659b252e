#include "net/prober_core.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <utility>

#include "net/smtp_reply.hpp"
#include "net/smtp_session.hpp"

namespace mailsentry {

namespace {

// How often one job asks for its domain's catch-all probe after its own
// "exists" answer (the probe it relied on failed, or did not fit its batch).
constexpr int kMaxProbeRequests = 2;

}  // namespace

ProberCore::ProberCore(asio::io_context& io, HostResolver resolve_host, SmtpOptions options)
    : io_(io),
      pool_(std::make_shared<SmtpPool>(io, std::move(resolve_host), options)),
      catch_all_(options.catch_all_memory) {}

// ------------------------------------------------------------- jobs ---

void ProberCore::start(ProbeRequest request, std::function<void(ProbeResult)> done) {
  auto job = std::make_shared<ProbeJob>();
  job->id = next_job_id_++;
  job->done = std::move(done);
  job->request = std::move(request);
  jobs_.emplace(job->id, job);
  if (shut_down_) {
    job->warn(kProberShutDownWarning);
    finish(job);
    return;
  }
  if (std::string refusal = job->prepare(); !refusal.empty()) {
    job->warn(std::move(refusal));
    finish(job);
    return;
  }
  catch_all_.join(*job);
  run_attempt(job);
}

void ProberCore::run_attempt(const JobPtr& job) {
  if (job->finished) return;
  if (shut_down_) {
    job->warn(kProberShutDownWarning);
    finish(job);
    return;
  }
  if (!job->attempts_left()) {
    job->warn(job->exhausted_warning());
    finish(job);
    return;
  }
  const std::optional<std::size_t> chosen =
      job->pick_host([this](const std::string& host) { return pool_->unavailable_reason(host); });
  if (!chosen) {
    finish(job);  // every MX host is unusable; the warnings say why
    return;
  }
  job->host_index = *chosen;
  job->answer.reset();
  pool_->count_probe(job->host());
  enqueue(job, false);
}

void ProberCore::next_attempt(const JobPtr& job) {
  job->advance_attempt();
  run_attempt(job);
}

// ------------------------------------------------ catch-all answers ---

// The batch's probes ended without replies: whoever waited may ask again.
void ProberCore::end_probes(const BatchPtr& batch) {
  for (const auto& probe : batch->probes)
    release_parked(probe.first, catch_all_.record(probe.first, nullptr));
}

void ProberCore::release_parked(const std::string& domain, const ProbeAnswer& answer) {
  for (const JobPtr& job : catch_all_.take_parked(domain)) {
    if (job->finished) continue;
    CatchAllProbes::apply(*job, answer);
    conclude(job);
  }
  catch_all_.forget_if_idle(domain);
}

// The job has its own answer: finish it, or wait for its domain's catch-all
// status, or schedule the extended-depth retry.
void ProberCore::conclude(const JobPtr& job) {
  if (job->finished) return;
  if (!job->answer) {
    run_attempt(job);  // nothing to conclude from: probe it
    return;
  }
  catch_all_.refresh(*job);
  const RcptVerdict verdict = classify_rcpt_reply(*job->answer);
  if (job->awaiting_catch_all && verdict == RcptVerdict::exists) {
    // A catch-all domain accepts anyone: "exists" needs the domain's status.
    if (catch_all_.probe_in_flight(job->domain)) {
      catch_all_.park(job);
      return;
    }
    if (job->probe_requests < kMaxProbeRequests) {
      ++job->probe_requests;
      enqueue(job, true);  // to the host that answered, for the probe only
      return;
    }
    job->awaiting_catch_all = false;  // the status stays unknown
  }
  job->result.outcome = rcpt_outcome(verdict, job->result.catch_all);
  if (!job->wants_depth_retry(verdict)) {
    if (verdict == RcptVerdict::greylisted && job->depth_retry_done)
      job->warn(job->host() + ": still deferring after the retry");
    finish(job);
    return;
  }
  schedule_depth_retry(job, job->begin_depth_retry(verdict));
}

void ProberCore::schedule_depth_retry(const JobPtr& job, std::chrono::milliseconds delay) {
  job->retry_timer = std::make_unique<asio::steady_timer>(io_, delay);
  std::weak_ptr<ProberCore> weak = shared_from_this();
  job->retry_timer->async_wait([weak, job](const std::error_code&) {
    const auto self = weak.lock();
    if (!self || job->finished) return;
    try {
      self->run_attempt(job);
    } catch (...) {
      job->warn("internal error");
      self->finish(job);
    }
  });
}

void ProberCore::finish(const JobPtr& job) {
  if (job->finished) return;
  job->finished = true;
  jobs_.erase(job->id);
  if (job->retry_timer) job->retry_timer->cancel();
  catch_all_.leave(*job);
  job->settle_result(pool_->port25_known_working());
  asio::post(io_, [done = std::move(job->done), result = std::move(job->result)]() mutable {
    try {
      if (done) done(std::move(result));
    } catch (...) {
      // The caller's callback must not throw into the event loop.
    }
  });
}

// ------------------------------------------------------- the prober ---

void ProberCore::set_options(SmtpOptions options) {
  catch_all_.set_ttl(options.catch_all_memory);
  pool_->set_options(std::move(options));
  // New limits may allow more sessions for the jobs already waiting.
  for (const std::string& host : queues_.hosts()) pump_host(host);
}

void ProberCore::shutdown() {
  shut_down_ = true;
  // Their jobs are finished below; their handlers would hold the batches.
  for (const BatchPtr& batch : active_) batch->session->abandon();
  active_.clear();
  for (const std::string& host : queues_.hosts()) pool_->set_queued(host, 0);
  queues_.clear();
  std::unordered_map<std::uint64_t, JobPtr> jobs;
  jobs.swap(jobs_);
  for (auto& [id, job] : jobs) {
    job->warn(kProberShutDownWarning);
    finish(job);
  }
  catch_all_.clear();
  pool_->shutdown();
}

}  // namespace mailsentry
