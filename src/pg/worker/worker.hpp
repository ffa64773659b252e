// The background worker that owns the network: registration and main loop.
#pragma once

namespace mailsentry::pg {

// Registers the worker; called from _PG_init while preloading.
void register_worker();

}  // namespace mailsentry::pg
