// The worker's upkeep of what it persisted: purging expired cache rows in
// bounded batches, saving per-MX health, and handing domain facts and open
// circuit breakers back to the engine when it starts. Each step runs in its
// own transaction; worker process only, never during recovery.
#pragma once

namespace mailsentry::pg {

void restore_domain_facts();
// True when a full batch was removed (more may be waiting).
bool purge_expired_entries();
// Saves breakers that opened or closed; the counters too when `with_counters`.
void save_mx_health(bool with_counters);

}  // namespace mailsentry::pg
