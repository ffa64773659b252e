// One address being probed: its request, the MX hosts it may use, its
// attempts on the progressive timeout schedule, the result it builds up and
// the extended-depth retry. At any moment a job is in one place only: a
// host queue, a batch, its domain's list of jobs waiting for a catch-all
// answer, a retry timer, or finished.
#pragma once

#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/smtp_prober.hpp"
#include "net/smtp_reply.hpp"

namespace mailsentry {

// Lower case, without trailing dots: the key of hosts and domains.
std::string lower_host(std::string_view host);
// The request's domain (else the recipient's), lower-case; "" when neither.
std::string domain_of(const ProbeRequest& request);
// "1500/2500/3500 ms".
std::string schedule_text(const std::vector<std::chrono::milliseconds>& timeouts);
// What an RCPT verdict says about the mailbox, given the domain's catch-all
// status: a server that accepts anything says nothing about this mailbox.
SmtpOutcome rcpt_outcome(RcptVerdict verdict, std::optional<bool> catch_all);

struct ProbeJob {
  std::uint64_t id = 0;
  ProbeRequest request;
  std::function<void(ProbeResult)> done;
  ProbeResult result;
  std::string domain;              // lower-case; "" leaves catch-all unchecked
  std::vector<std::string> hosts;  // lower-case, preference order
  std::vector<bool> host_unusable;
  std::vector<std::optional<MailHostReach>> host_reach;  // by host; unset: not tried
  std::vector<std::chrono::milliseconds> timeouts;
  std::size_t attempt = 0;
  std::size_t next_host = 0;
  std::size_t host_index = 0;       // the host of the current attempt
  std::optional<SmtpReply> answer;  // its own RCPT reply, once there is one
  bool awaiting_catch_all = false;  // its domain's catch-all status is still wanted
  bool distrust_memory = false;     // a depth retry wants a fresh probe, not the memory
  bool catch_all_seen_now = false;  // a probe for this job just found a catch-all
  int probe_requests = 0;
  bool depth_retry_done = false;
  bool stale_retry_used = false;
  bool finished = false;
  std::unique_ptr<asio::steady_timer> retry_timer;

  // Hosts, timeout schedule and domain from the request. "" when the job
  // may be probed; otherwise the warning it ends with.
  std::string prepare();

  const std::string& host() const { return hosts[host_index]; }
  std::chrono::milliseconds step_timeout() const {
    return timeouts[std::min(attempt, timeouts.size() - 1)];
  }
  bool attempts_left() const { return attempt < timeouts.size(); }
  std::string exhausted_warning() const;
  // The next usable host from next_host on, in turn. `unavailable_reason`
  // says why a host may not be used now ("" when it may); such hosts are
  // marked unusable for the rest of the job, with the reason as a warning.
  std::optional<std::size_t> pick_host(
      const std::function<std::string(const std::string& host)>& unavailable_reason);
  // The current attempt failed without an answer: the next one, on the next MX first.
  void advance_attempt() {
    ++attempt;
    next_host = host_index + 1;
  }

  void warn(std::string warning);
  void add_transcript(const std::vector<std::string>& lines);
  // How reaching hosts[index] ended this time (by default the current attempt's).
  void note_reach(MailHostReach reach) { note_reach(host_index, reach); }
  void note_reach(std::size_t index, MailHostReach reach);

  // Its own RCPT reply, from the current host.
  void accept(const SmtpReply& reply);
  // Whether its answer, with this verdict, earns the extended-depth retry:
  // greylisted, or a catch-all answer found just now, once.
  bool wants_depth_retry(RcptVerdict verdict) const;
  // Sets the job up for that retry (same host, fresh schedule) and returns
  // how long to wait before it.
  std::chrono::milliseconds begin_depth_retry(RcptVerdict verdict);
  // The result as handed back: outcome and reach settled.
  void settle_result(bool port25_known_working);
};

using JobPtr = std::shared_ptr<ProbeJob>;

}  // namespace mailsentry
