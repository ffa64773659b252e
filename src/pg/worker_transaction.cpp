#include "worker_transaction.hpp"

#include "postgres_headers.hpp"

extern "C" {
#include "access/xact.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
}

#include "cache_writer.hpp"

namespace mailsentry::pg {

bool run_in_transaction(const char* what, void (*body)()) {
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
    body();
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
    reset_cache_writer();
    ok = false;
  }
  PG_END_TRY();
  pgstat_report_activity(STATE_IDLE, nullptr);
  MemoryContextSwitchTo(caller_context);
  return ok;
}

}  // namespace mailsentry::pg
