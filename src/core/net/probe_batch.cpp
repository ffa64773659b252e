#include "net/probe_batch.hpp"

#include "net/smtp_batch.hpp"

namespace mailsentry {

namespace {

void add_entry(Batch& batch, const JobPtr& job, BatchTake take, CatchAllProbes& probes) {
  Batch::Entry entry{job, take != BatchTake::probe, 0};
  if (entry.rcpt) {
    entry.rcpt_index = batch.recipients.size();
    batch.recipients.push_back(job->request.recipient);
  }
  if (take != BatchTake::rcpt) {
    batch.probes.emplace_back(job->domain, batch.recipients.size());
    batch.recipients.push_back(probes.start_probe(job->domain));
  }
  batch.entries.push_back(std::move(entry));
}

}  // namespace

std::vector<JobPtr> fill_batch(Batch& batch, std::deque<JobPtr>& waiting, CatchAllProbes& probes,
                               int budget, std::optional<bool> smtputf8) {
  BatchPlanner planner(budget, smtputf8);
  std::vector<JobPtr> skipped;   // scanned but left queued, in order
  std::vector<JobPtr> answered;  // only waited for a catch-all status now known
  while (!waiting.empty() && !planner.full()) {
    const JobPtr job = waiting.front();
    if (job->finished) {
      waiting.pop_front();
      continue;
    }
    probes.refresh(*job);
    if (job->answer && !job->awaiting_catch_all) {
      waiting.pop_front();
      answered.push_back(job);
      continue;
    }
    BatchCandidate candidate;
    candidate.needs_rcpt = !job->answer;
    candidate.smtputf8 = job->request.needs_smtputf8;
    candidate.wants_probe = job->awaiting_catch_all;
    candidate.domain = job->domain;
    candidate.probe_in_flight = !job->domain.empty() && probes.probe_in_flight(job->domain);
    const BatchTake take = planner.offer(candidate);
    if (take == BatchTake::stop) break;
    waiting.pop_front();
    if (take == BatchTake::skip) {
      skipped.push_back(job);
    } else if (take == BatchTake::attach) {
      probes.park(job);
    } else {
      add_entry(batch, job, take, probes);
    }
  }
  for (auto it = skipped.rbegin(); it != skipped.rend(); ++it) waiting.push_front(*it);
  batch.smtputf8 = planner.smtputf8();
  return answered;
}

}  // namespace mailsentry
