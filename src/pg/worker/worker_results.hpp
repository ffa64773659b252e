// What the worker does with finished verifications: writes every verdict to
// mailsentry.cache (and its domain facts, and job progress) in one
// transaction, and only then answers the backends that wait, so that a
// verdict a caller has seen is durable whatever its transaction does next.
#pragma once

namespace mailsentry::pg {

// PostgreSQL side; worker process only.
void handle_completions();

}  // namespace mailsentry::pg
