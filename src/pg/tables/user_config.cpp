#include "tables/user_config.hpp"

#include "base/postgres_headers.hpp"

extern "C" {
#include "executor/spi.h"
#include "utils/inval.h"
}

#include <memory>

#include "base/guard.hpp"
#include "tables/overrides_table.hpp"

namespace mailsentry::pg {

namespace {

// Backend-local state. The unique_ptrs are globals, never on a stack a
// longjmp could skip.
std::unique_ptr<Lists> effective_lists;
std::unique_ptr<Weights> effective_weights;
TypoMemo typo_memo;  // valid for effective_lists as they are now

Oid overrides_relid = InvalidOid;
Oid weights_relid = InvalidOid;
// Bumped by every relevant invalidation; a load is current only if no
// invalidation arrived while it ran.
uint64 invalidation_count = 1;
uint64 loaded_at_count = 0;
unsigned long long reload_count = 0;

void on_relcache_invalidation(Datum, Oid relid) {
  // Before the extension exists there is nothing to watch: any relation may
  // be the new override table.
  if (relid == InvalidOid || relid == overrides_relid || relid == weights_relid ||
      overrides_relid == InvalidOid)
    ++invalidation_count;
}

void raise_guarded(const GuardResult& result) { raise_if_failed(result, "loading user overrides"); }

}  // namespace

void register_user_config_invalidation() {
  CacheRegisterRelcacheCallback(on_relcache_invalidation, (Datum)0);
}

void ensure_user_config_current() {
  if (loaded_at_count == invalidation_count) return;
  const uint64 load_started_at = invalidation_count;

  raise_guarded(run_guarded("loading built-in lists", [] {
    typo_memo.clear();
    if (!effective_lists) effective_lists = std::make_unique<Lists>(Lists::builtin());
    for (std::string_view name : Lists::names()) effective_lists->by_name(name)->clear_overrides();
    effective_weights = std::make_unique<Weights>();
  }));

  const OverrideTables tables = find_override_tables();
  overrides_relid = tables.lists;
  weights_relid = tables.weights;

  if (OidIsValid(overrides_relid) && OidIsValid(weights_relid)) {
    if (SPI_connect() != SPI_OK_CONNECT)
      ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("mailsentry: SPI_connect failed")));
    apply_list_overrides(*effective_lists);
    apply_weight_overrides(*effective_weights);
    SPI_finish();
  }
  loaded_at_count = load_started_at;
  ++reload_count;
}

unsigned long long user_config_version() { return reload_count; }

const Lists& current_lists() { return *effective_lists; }
TypoMemo& current_typo_memo() { return typo_memo; }
const Weights& current_weights() { return *effective_weights; }

}  // namespace mailsentry::pg
