// The worker's side of background jobs (mailsentry.submit): takes the oldest
// queued or running job, feeds its pending addresses to the engine (at most
// mailsentry.job_concurrency at once), records each verdict in the same
// transaction as its cache entry, and finishes the job with a NOTIFY on
// channel mailsentry_jobs. Worker process only; never during recovery.
#pragma once

#include <cstdint>

#include "net/network_facts.hpp"
#include "verdict/verification.hpp"

namespace mailsentry::pg {

// One round: PostgreSQL side, its own transaction.
void run_jobs();
// Whether a job is being worked on (the worker then wakes more often).
bool job_active();

// C++ side: the verdict of a job address from its started verification and
// the network facts (nullptr when none came), kept for write_job_progress().
void note_job_verdict(std::int64_t job_id, std::int64_t item, Verification& started,
                      const NetworkFacts* facts);
bool job_progress_pending();
// PostgreSQL side, inside a transaction with SPI connected.
void write_job_progress();

}  // namespace mailsentry::pg
