// mailsentry.job_queue and mailsentry.job_items as the worker reads and
// writes them: the only place that knows their columns. PostgreSQL side,
// inside a worker transaction with SPI connected (worker/worker_transaction).
#pragma once

#include <cstdint>

#include "base/postgres_headers.hpp"
#include "base/text_encoding.hpp"
#include "net/network_verifier.hpp"

namespace mailsentry::pg {

struct JobTaken {
  std::int64_t job_id;
  Depth depth;
};

// Whether job `job_id` is still queued or running (not cancelled or gone).
bool job_still_wanted(std::int64_t job_id);

// Marks the oldest queued or running job running; false when there is none.
bool take_next_job(JobTaken& out);

// Pending items of a job after item `after`, in item order; palloc'd arrays
// (`emails` as UTF-8) in the current memory context.
struct JobItems {
  int count;
  std::int64_t* items;
  Utf8Text* emails;
};
JobItems read_pending_job_items(std::int64_t job_id, std::int64_t after, std::int64_t limit);

// One finished item, in plain data.
struct JobVerdict {
  std::int64_t job_id;
  std::int64_t item;
  char verdict[16];
  int score;
};

// Records `count` verdicts of one job and adds them to its counters, while
// the job is running (a cancelled job's counters stay as they were).
void record_job_verdicts(std::int64_t job_id, const JobVerdict* verdicts, int count);

// Marks the job finished and notifies channel mailsentry_jobs when none of
// its items is pending; false when some still is.
bool finish_job_if_done(std::int64_t job_id);

}  // namespace mailsentry::pg
