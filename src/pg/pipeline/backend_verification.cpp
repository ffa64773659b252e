#include "pipeline/backend_verification.hpp"

extern "C" {
#include "utils/timestamp.h"
}

#include "pipeline/call_context.hpp"
#include "pipeline/worker_handoff.hpp"

namespace mailsentry::pg {

std::size_t verify_in_backend(const BatchOptions& options, const Utf8Text* texts, int count,
                              ResultSink& sink) {
  CallContext<AddressBatch> call = CallContext<AddressBatch>::create(options.entry_point);
  start_batch(*call, options, texts, count);
  run_batch(*call, sink);
  const std::size_t handed_to_worker = call->pending.size();
  call.finish();
  return handed_to_worker;
}

RowTiming row_timing(const AddressBatch& batch, TimestampTz checked_at) {
  const TimestampTz now = GetCurrentTimestamp();
  return {checked_at != 0 ? checked_at : now, static_cast<double>(now - batch.started) / 1000.0};
}

}  // namespace mailsentry::pg
