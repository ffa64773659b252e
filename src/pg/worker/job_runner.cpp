#include "worker/job_runner.hpp"

#include "base/postgres_headers.hpp"

#include <algorithm>
#include <vector>

#include "base/guard.hpp"
#include "base/settings.hpp"
#include "pipeline/address_batch.hpp"
#include "pipeline/call_context.hpp"
#include "tables/jobs_table.hpp"
#include "tables/user_config.hpp"
#include "worker/worker_requests.hpp"
#include "worker/worker_transaction.hpp"

namespace mailsentry::pg {

namespace {

constexpr const char* kStartingItems = "starting a job's addresses";

// The job being worked on, across rounds (plain data, for the worker's life).
struct RunnerState {
  std::int64_t job = 0;
  Depth depth = Depth::standard;
  std::int64_t cursor = 0;  // items up to here were fetched (pending ones: in flight)
};
RunnerState runner;

// Verdicts noted since the last write_job_progress(): filled between
// transactions (worker_results), so they outlive any one round.
std::vector<JobVerdict> finished;

// One round's addresses on the shared path, in a call context.
struct JobRound {
  AddressBatch batch;
  std::int64_t job_id = 0;
  std::vector<std::int64_t> items;  // per input of the batch
};

// A finished verification as the job's table records it (C++ side).
JobVerdict job_verdict(std::int64_t job_id, std::int64_t item, const Verification& v) {
  JobVerdict done{job_id, item, {0}, v.assessment.score};
  const std::string_view verdict = verdict_name(v.assessment.verdict);
  verdict.copy(done.verdict, std::min(verdict.size(), sizeof done.verdict - 1));
  return done;
}

// Items the network-free checks or the cache finished at once.
struct JobSink {
  ResultSink sink;  // first member: the sink handed to the path is this
  JobRound* round;
};

void note_finished_item(ResultSink* sink, const AddressBatch& batch, std::size_t input,
                        TimestampTz) {
  const JobRound& round = *reinterpret_cast<JobSink*>(sink)->round;
  raise_if_failed(run_guarded(kStartingItems,
                              [&] {
                                finished.push_back(job_verdict(round.job_id, round.items[input],
                                                               batch.inputs[input].started->v));
                              }),
                  kStartingItems);
}

// C++ side: hands input `input` to the engine with its started verification.
void submit_item(JobRound& round, std::size_t input) {
  StartedInput& started = *round.batch.inputs[input].started;
  InternalRequest internal;
  internal.kind = InternalKind::job_item;
  internal.job_id = round.job_id;
  internal.item = round.items[input];
  internal.started = std::make_unique<Verification>(std::move(started.v));
  submit_internal(std::move(internal), std::move(*started.request));
}

// Finishes at once what needs no network or is cached; submits the rest.
void start_items(const JobItems& fetched) {
  CallContext<JobRound> round = CallContext<JobRound>::create(kStartingItems);
  BatchOptions options;
  options.entry_point = kStartingItems;
  options.submitting_point = kStartingItems;
  options.finishing_point = kStartingItems;
  options.depth = runner.depth;
  options.depth_text = depth_name(runner.depth).data();  // names are literals
  options.distinct = false;                              // one verdict per item, duplicates too
  options.count_cache_hits = false;
  start_batch(round->batch, options, fetched.emails, fetched.count);
  raise_if_failed(run_guarded(kStartingItems,
                              [&] {
                                round->job_id = runner.job;
                                round->items.assign(fetched.items, fetched.items + fetched.count);
                              }),
                  kStartingItems);
  JobSink sink{{note_finished_item}, &*round};
  (void)prepare_next(round->batch, sink.sink, round->batch.inputs.size());
  raise_if_failed(run_guarded(kStartingItems,
                              [&] {
                                for (const PendingAddress& p : round->batch.pending) {
                                  submit_item(*round, p.first_input);
                                  for (std::size_t more : p.more_inputs) submit_item(*round, more);
                                }
                              }),
                  kStartingItems);
  round.finish();
}

void jobs_round() {
  if (!mailsentry_relations_exist({"job_queue", "job_items"})) return;
  if (runner.job != 0 && !job_still_wanted(runner.job)) {
    raise_if_failed(run_guarded("dropping a job", [] { forget_job(runner.job); }),
                    "mailsentry worker");
    runner.job = 0;
  }
  if (runner.job == 0) {
    JobTaken taken;
    if (!take_next_job(taken)) return;
    runner = {taken.job_id, taken.depth, 0};
  }
  const std::int64_t room =
      settings.job_concurrency - static_cast<std::int64_t>(job_items_in_flight(runner.job));
  int fetched_count = 0;
  // Refill when at least a tenth of the room is free: fewer, larger reads.
  if (room >= std::max(1, settings.job_concurrency / 10)) {
    const JobItems fetched = read_pending_job_items(runner.job, runner.cursor, room);
    fetched_count = fetched.count;
    if (fetched.count > 0) {
      runner.cursor = fetched.items[fetched.count - 1];
      start_items(fetched);
    }
  }
  write_job_progress();
  if (fetched_count > 0 || job_items_in_flight(runner.job) != 0) return;
  if (!finish_job_if_done(runner.job)) {
    runner.cursor = 0;  // some address was not finished: look again from the start
    return;
  }
  ereport(LOG,
          (errmsg("mailsentry worker: job %lld finished", static_cast<long long>(runner.job))));
  runner.job = 0;
}

}  // namespace

void note_job_verdict(std::int64_t job_id, std::int64_t item, Verification& started,
                      const NetworkFacts* facts) {
  if (job_id == 0) return;  // cancelled meanwhile: cached, not counted
  std::optional<NetworkFacts> network;
  if (facts != nullptr) network = *facts;
  finish_verification(started, std::move(network), "", current_weights());
  finished.push_back(job_verdict(job_id, item, started));
}

bool job_progress_pending() { return !finished.empty(); }

bool job_active() { return runner.job != 0; }

void write_job_progress() {
  // One statement per job: the items' verdicts and the job's counters.
  std::size_t start = 0;
  while (start < finished.size()) {
    std::size_t end = start;
    while (end < finished.size() && finished[end].job_id == finished[start].job_id) ++end;
    record_job_verdicts(finished[start].job_id, &finished[start], static_cast<int>(end - start));
    start = end;
  }
  finished.clear();
}

void run_jobs() {
  if (!run_in_transaction("running jobs", jobs_round)) {
    // The round's verdicts were not recorded; their items stay pending and
    // come back from the start.
    finished.clear();
    runner.cursor = 0;
  }
}

}  // namespace mailsentry::pg
