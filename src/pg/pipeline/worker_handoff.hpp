// A backend's hand-off to the worker: keeps as many pending addresses of the
// batch in the shared queue as this session's share allows
// (mailsentry.queue_slots_per_backend and _per_role), and finishes each as
// its answer comes or mailsentry.verify_timeout passes. The one place a
// backend sleeps on its latch for the worker: waiting for room in the queue
// (up to mailsentry.queue_wait_timeout) and for answers alike.
#pragma once

#include "pipeline/address_batch.hpp"

namespace mailsentry::pg {

// Prepares the batch's inputs a window at a time (pipeline/address_batch)
// and hands what needs the network to the worker. PostgreSQL side: honours
// cancel and statement_timeout; on an ERROR every slot in flight is given
// back at once (the worker still finishes and caches what it took).
void run_batch(AddressBatch& batch, ResultSink& sink);

}  // namespace mailsentry::pg
