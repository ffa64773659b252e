// Library entry: module magic, settings, and the hooks registered at load.
#include "base/postgres_headers.hpp"

extern "C" {
#include "utils/guc.h"
}

#include <cstring>
#include <new>

#include "base/guard.hpp"
#include "base/settings.hpp"
#include "queue/request_queue.hpp"
#include "tables/user_config.hpp"
#include "worker/worker.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

namespace mailsentry::pg {

void maybe_inject_failure(const char* entry_point) {
  const char* spec = settings.debug_fail_point;
  if (spec == nullptr || spec[0] == '\0') return;
  // "<entry point>" throws a runtime error, "<entry point>:bad_alloc" an
  // allocation failure: the two ways C++ code fails in practice.
  const std::size_t name_length = std::strlen(entry_point);
  if (std::strncmp(spec, entry_point, name_length) != 0) return;
  const char* kind = spec + name_length;
  if (std::strcmp(kind, ":bad_alloc") == 0) throw std::bad_alloc();
  if (kind[0] == '\0') throw InjectedFailure("failure injected by mailsentry.debug_fail_point");
}

}  // namespace mailsentry::pg

void _PG_init(void) {
  mailsentry::pg::define_settings();
  MarkGUCPrefixReserved("mailsentry");
  mailsentry::pg::register_user_config_invalidation();
  if (process_shared_preload_libraries_in_progress) {
    mailsentry::pg::install_shared_memory_hooks();
    // pg_upgrade runs the server without workers that could touch data.
    if (!IsBinaryUpgrade) mailsentry::pg::register_worker();
  }
}
