#include "net/catch_all_probes.hpp"

#include <utility>

namespace mailsentry {

void CatchAllProbes::remember(const std::string& domain, bool catch_all,
                              std::chrono::milliseconds ttl) {
  memory_.remember(lower_host(domain), catch_all, Clock::now(), ttl);
}

void CatchAllProbes::join(ProbeJob& job) {
  if (job.domain.empty()) return;
  ++domains_[job.domain].jobs;
  job.result.catch_all = memory_.recall(job.domain, Clock::now());
  job.awaiting_catch_all = !job.result.catch_all;
}

void CatchAllProbes::leave(const ProbeJob& job) {
  if (job.domain.empty()) return;
  const auto found = domains_.find(job.domain);
  if (found == domains_.end()) return;
  --found->second.jobs;
  forget_if_idle(job.domain);
}

void CatchAllProbes::refresh(ProbeJob& job) {
  if (!job.awaiting_catch_all || job.distrust_memory) return;
  if (const std::optional<bool> known = memory_.recall(job.domain, Clock::now())) {
    job.result.catch_all = known;
    job.awaiting_catch_all = false;
  }
}

bool CatchAllProbes::probe_in_flight(const std::string& domain) const {
  const auto found = domains_.find(domain);
  return found != domains_.end() && found->second.probe_in_flight;
}

const std::string& CatchAllProbes::start_probe(const std::string& domain) {
  DomainState& state = domains_[domain];
  state.probe_in_flight = true;
  if (state.probe_address.empty()) state.probe_address = random_local_part() + "@" + domain;
  return state.probe_address;
}

ProbeAnswer CatchAllProbes::record(const std::string& domain, const SmtpReply* reply) {
  ProbeAnswer answer;
  domains_[domain].probe_in_flight = false;
  if (reply) {
    answer.replied = true;
    const RcptVerdict verdict = classify_rcpt_reply(*reply);
    if (verdict == RcptVerdict::exists) answer.catch_all = true;
    if (verdict == RcptVerdict::does_not_exist) answer.catch_all = false;
    if (answer.catch_all) memory_.remember(domain, *answer.catch_all, Clock::now(), ttl_);
  }
  return answer;
}

void CatchAllProbes::park(const JobPtr& job) { domains_[job->domain].parked.push_back(job); }

std::vector<JobPtr> CatchAllProbes::take_parked(const std::string& domain) {
  std::vector<JobPtr> parked;
  const auto found = domains_.find(domain);
  if (found != domains_.end()) parked.swap(found->second.parked);
  return parked;
}

void CatchAllProbes::forget_if_idle(const std::string& domain) {
  const auto found = domains_.find(domain);
  if (found == domains_.end()) return;
  const DomainState& state = found->second;
  if (state.jobs <= 0 && !state.probe_in_flight && state.parked.empty()) domains_.erase(found);
}

void CatchAllProbes::apply(ProbeJob& job, const ProbeAnswer& answer) {
  if (!job.awaiting_catch_all) return;
  if (answer.catch_all) {
    job.result.catch_all = answer.catch_all;
    job.catch_all_seen_now = *answer.catch_all;
    job.awaiting_catch_all = false;
    job.distrust_memory = false;
  } else if (answer.replied) {
    job.awaiting_catch_all = false;  // an inconclusive reply: the status stays unknown
  }
}

std::string CatchAllProbes::random_local_part() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::uniform_int_distribution<std::size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string local(kLocalPartLength, 'x');
  for (char& c : local) c = kAlphabet[pick(random_)];
  return local;
}

}  // namespace mailsentry
