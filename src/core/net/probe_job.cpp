#include "net/probe_job.hpp"

#include <algorithm>
#include <utility>

#include "checks/local_part.hpp"

namespace mailsentry {

std::string lower_host(std::string_view host) {
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::string lower;
  lower.reserve(host.size());
  for (const char c : host) lower += ascii_lower(c);
  return lower;
}

std::string domain_of(const ProbeRequest& request) {
  if (!request.domain.empty()) return lower_host(request.domain);
  const std::size_t at = request.recipient.rfind('@');
  return at == std::string::npos ? std::string{}
                                 : lower_host(std::string_view(request.recipient).substr(at + 1));
}

std::string schedule_text(const std::vector<std::chrono::milliseconds>& timeouts) {
  std::string text;
  for (const auto& timeout : timeouts) {
    if (!text.empty()) text += '/';
    text += std::to_string(timeout.count());
  }
  return text + " ms";
}

SmtpOutcome rcpt_outcome(RcptVerdict verdict, std::optional<bool> catch_all) {
  if (verdict == RcptVerdict::exists) {
    return catch_all.value_or(false) ? SmtpOutcome::inconclusive : SmtpOutcome::exists;
  }
  if (verdict == RcptVerdict::mailbox_full) return SmtpOutcome::exists;
  if (verdict == RcptVerdict::does_not_exist) return SmtpOutcome::does_not_exist;
  return SmtpOutcome::inconclusive;  // greylisted, policy refusal, temporary, inconclusive
}

std::string ProbeJob::prepare() {
  for (const MxHost& mx : request.mx) {
    std::string host = lower_host(mx.host);
    if (!host.empty()) hosts.push_back(std::move(host));
  }
  host_unusable.assign(hosts.size(), false);
  host_reach.assign(hosts.size(), std::nullopt);
  for (const auto& timeout : request.settings.timeouts) {
    if (timeout.count() > 0) timeouts.push_back(timeout);
  }
  if (timeouts.empty()) timeouts = ProbeSettings{}.timeouts;
  if (hosts.empty() || request.recipient.empty())
    return "nothing to probe: no MX host or no recipient";
  // A line break would smuggle in a command of its own, and would break the
  // transaction of every job batched with this one.
  const std::string_view forbidden("\r\n\0", 3);
  if (request.recipient.find_first_of(forbidden) != std::string::npos ||
      request.domain.find_first_of(forbidden) != std::string::npos)
    return "refusing to probe an address containing a line break";
  domain = domain_of(request);
  return {};
}

std::string ProbeJob::exhausted_warning() const {
  return "timeout: no definitive answer after " + std::to_string(timeouts.size()) + " attempts (" +
         schedule_text(timeouts) + ")";
}

std::optional<std::size_t> ProbeJob::pick_host(
    const std::function<std::string(const std::string& host)>& unavailable_reason) {
  for (std::size_t k = 0; k < hosts.size(); ++k) {
    const std::size_t index = (next_host + k) % hosts.size();
    if (host_unusable[index]) continue;
    std::string reason = unavailable_reason(hosts[index]);
    if (reason.empty()) return index;
    warn(std::move(reason));
    host_unusable[index] = true;
    note_reach(index, MailHostReach::no_answer);  // breaker or back-off: it may pass
  }
  return std::nullopt;
}

void ProbeJob::warn(std::string warning) {
  if (std::find(result.warnings.begin(), result.warnings.end(), warning) == result.warnings.end())
    result.warnings.push_back(std::move(warning));
}

void ProbeJob::add_transcript(const std::vector<std::string>& lines) {
  result.transcript.insert(result.transcript.end(), lines.begin(), lines.end());
}

void ProbeJob::note_reach(std::size_t index, MailHostReach reach) {
  std::optional<MailHostReach>& earlier = host_reach[index];
  earlier = earlier ? merge_host_reach(*earlier, reach) : reach;
}

void ProbeJob::accept(const SmtpReply& reply) {
  const RcptVerdict verdict = classify_rcpt_reply(reply);
  answer = reply;
  result.mx_host = host();
  result.code = reply.code;
  result.enhanced_code = reply.enhanced;
  result.message = clean_reply_text(reply.text());
  result.mailbox_full = verdict == RcptVerdict::mailbox_full;
  if (verdict == RcptVerdict::greylisted) result.greylisted = true;
  if (verdict == RcptVerdict::policy_refusal) warn(host() + ": refused by policy");
}

bool ProbeJob::wants_depth_retry(RcptVerdict verdict) const {
  return request.settings.extended && !depth_retry_done &&
         (verdict == RcptVerdict::greylisted || catch_all_seen_now);
}

std::chrono::milliseconds ProbeJob::begin_depth_retry(RcptVerdict verdict) {
  depth_retry_done = true;
  const auto delay = request.settings.greylist_retry_delay;
  warn(std::string(verdict == RcptVerdict::greylisted ? "greylisted" : "catch-all answer") +
       " by " + host() + "; probed again after " + std::to_string(delay.count()) + " ms");
  if (catch_all_seen_now) {
    awaiting_catch_all = true;  // the domain's probe is repeated too
    distrust_memory = true;
  } else if (!result.catch_all && !domain.empty()) {
    awaiting_catch_all = true;  // the probe may answer this time
  }
  catch_all_seen_now = false;
  probe_requests = 0;
  attempt = 0;
  next_host = host_index;  // greylisting is remembered per server
  stale_retry_used = false;
  return delay;
}

void ProbeJob::settle_result(bool port25_known_working) {
  if (result.outcome == SmtpOutcome::not_attempted) result.outcome = SmtpOutcome::inconclusive;
  result.reach = answer ? MailHostReach::answered : summarise_reach(host_reach);
  result.port25_known_working = port25_known_working;
}

}  // namespace mailsentry
