// The whole path of a backend's verification call, from SQL text to finished
// verdicts: network-free checks once, the cache, the worker (pipeline/
// address_batch and worker_handoff). verify_email() is its one-address case.
#pragma once

#include "functions/result_tuple.hpp"
#include "pipeline/address_batch.hpp"

namespace mailsentry::pg {

// Runs `count` inputs through the path; each finished input goes to `sink`.
// Returns how many addresses went to the worker (the network). The batch
// lives in a call context that is deleted at the end, or by the reset that
// follows an ERROR or cancel. PostgreSQL side.
std::size_t verify_in_backend(const BatchOptions& options, const Utf8Text* texts, int count,
                              ResultSink& sink);

// The timing columns of a row finished now: when its facts were gathered
// (`checked_at`, 0 for now) and how long the call has taken.
RowTiming row_timing(const AddressBatch& batch, TimestampTz checked_at);

}  // namespace mailsentry::pg
