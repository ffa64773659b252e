// Background re-probes: cached verdicts whose facts left the mailbox question
// open are verified again after mailsentry.reprobe_delay, up to
// mailsentry.reprobe_attempts times. Worker process only; PostgreSQL side,
// in its own transaction.
#pragma once

namespace mailsentry::pg {

void reprobe_due_entries();

}  // namespace mailsentry::pg
