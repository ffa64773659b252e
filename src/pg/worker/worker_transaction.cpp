#include "worker/worker_transaction.hpp"

#include "base/postgres_headers.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
}

#include "tables/spi_statements.hpp"

namespace mailsentry::pg {

void spi_run(const char* what, int expected, const char* sql, int nargs, Oid* types, Datum* values,
             const char* nulls, bool read_only, long count) {
  const int rc = SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, count);
  if (rc != expected)
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                    errmsg("%s failed: %s", what, SPI_result_code_string(rc))));
}

bool mailsentry_relations_exist(std::initializer_list<const char*> names) {
  const Oid schema = get_namespace_oid("mailsentry", true);
  if (!OidIsValid(schema)) return false;
  for (const char* name : names)
    if (!OidIsValid(get_relname_relid(name, schema))) return false;
  return true;
}

bool run_in_transaction(const char* what, void (*body)(void*), void* state) {
  MemoryContext caller_context = CurrentMemoryContext;
  volatile bool ok = true;
  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();
  pgstat_report_activity(STATE_RUNNING, what);
  PG_TRY();
  {
    if (SPI_connect() != SPI_OK_CONNECT)
      ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("SPI_connect failed")));
    PushActiveSnapshot(GetTransactionSnapshot());
    body(state);
    PopActiveSnapshot();
    SPI_finish();
    CommitTransactionCommand();
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    ErrorData* error = CopyErrorData();
    FlushErrorState();
    AbortCurrentTransaction();
    ereport(WARNING, (errcode(error->sqlerrcode),
                      errmsg("mailsentry worker: %s failed: %s", what, error->message)));
    FreeErrorData(error);
    forget_kept_statements();
    ok = false;
  }
  PG_END_TRY();
  // A background worker's table statistics (rows inserted, updated, dead)
  // reach the shared statistics only when it reports them: without this,
  // autovacuum never learnt of the worker's writes to the cache, domains and
  // job tables, and never vacuumed or analyzed them for it.
  (void)pgstat_report_stat(true);
  pgstat_report_activity(STATE_IDLE, nullptr);
  MemoryContextSwitchTo(caller_context);
  return ok;
}

namespace {
void run_stateless(void* body) { reinterpret_cast<void (*)()>(body)(); }
}  // namespace

bool run_in_transaction(const char* what, void (*body)()) {
  return run_in_transaction(what, run_stateless, reinterpret_cast<void*>(body));
}

}  // namespace mailsentry::pg
