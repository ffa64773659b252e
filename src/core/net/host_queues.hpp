// Jobs waiting for a session to one MX host, first come first served, and
// the pool acquisitions asked for them and not answered yet.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/probe_job.hpp"
#include "net/smtp_prober.hpp"

namespace mailsentry {

struct HostQueue {
  std::deque<JobPtr> waiting;  // FIFO
  int acquiring = 0;           // pool acquisitions not answered yet

  // One session per batch's worth of waiting jobs, up to the per-MX limit:
  // more would only open sessions that find nothing to do. 0 when empty.
  std::size_t sessions_wanted(const SmtpOptions& options) const;
};

class HostQueues {
 public:
  // To the queue of the job's current host; at the front when it has waited longest.
  void push(const JobPtr& job, bool front);
  HostQueue* find(const std::string& host);
  void acquisition_answered(const std::string& host);
  // Every job waiting for `host` (the queue stays for acquisitions in flight).
  std::deque<JobPtr> take_waiting(const std::string& host);
  // The jobs whose RCPT needs SMTPUTF8, for a host whose session lacks it.
  std::vector<JobPtr> take_smtputf8_needs(const std::string& host);
  // Drops the queue once nothing waits and nothing is being acquired.
  void forget_if_idle(const std::string& host);
  std::vector<std::string> hosts() const;
  void clear() { queues_.clear(); }

 private:
  std::unordered_map<std::string, HostQueue> queues_;
};

}  // namespace mailsentry
