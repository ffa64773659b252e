// RCPTs of one or more jobs sent together on one leased session: with
// PIPELINING a transaction of its own (RSET, MAIL FROM, RCPT x k in one
// write); without, one RCPT that joins the transaction the session keeps open
// (a stream), MAIL FROM first only when none is open with its SMTPUTF8 need.
// fill_batch() takes the jobs from the front of a host's queue as the
// BatchPlanner (smtp_batch.hpp) decides.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "net/catch_all_probes.hpp"
#include "net/probe_job.hpp"
#include "net/smtp_session.hpp"

namespace mailsentry {

struct Batch {
  struct Entry {
    JobPtr job;
    bool rcpt = false;  // false: the job only carries its domain's probe
    std::size_t rcpt_index = 0;
  };
  std::string host;
  std::shared_ptr<SmtpSession> session;
  bool reused = false;
  bool smtputf8 = false;
  bool continue_open = false;  // the RCPTs may join the transaction left open
  bool session_done = false;   // released, or handed on to the next batch
  std::vector<Entry> entries;
  std::vector<std::pair<std::string, std::size_t>> probes;  // domain, recipient index
  std::vector<std::string> recipients;
  std::vector<std::string> transcript;  // the session's opening
  std::vector<std::string> warnings;    // from the lease, for every job
};

using BatchPtr = std::shared_ptr<Batch>;

// Sessions without PIPELINING stream: one RCPT at a time, the budget checked
// before each, all in the transaction the session keeps open. With
// PIPELINING a batch of RCPTs costs one round trip whatever its size.
inline bool streams(const SmtpSession& session) { return !session.capabilities().pipelining; }

// Moves jobs from the front of `waiting` into `batch` within `budget`
// recipients (`smtputf8`: the need of a transaction already open). Finished
// jobs are dropped; jobs whose domain's probe is on its way park with
// `probes`; skipped ones stay queued in order. Returns the jobs that only
// waited for a catch-all status now remembered: the caller concludes them.
std::vector<JobPtr> fill_batch(Batch& batch, std::deque<JobPtr>& waiting, CatchAllProbes& probes,
                               int budget, std::optional<bool> smtputf8 = std::nullopt);

}  // namespace mailsentry
