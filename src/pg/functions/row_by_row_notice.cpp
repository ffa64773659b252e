#include "functions/row_by_row_notice.hpp"

#include "base/postgres_headers.hpp"

extern "C" {
#include "access/xact.h"
#include "storage/proc.h"
}

namespace mailsentry::pg {

namespace {

// The statement being counted: its transaction and its start. Plain data
// that lives as long as the backend.
LocalTransactionId counted_transaction = InvalidLocalTransactionId;
TimestampTz counted_statement_start = 0;
std::size_t network_verifications = 0;

}  // namespace

void note_network_verifications(std::size_t count) {
  if (count == 0) return;
  const TimestampTz statement_start = GetCurrentStatementStartTimestamp();
  if (MyProc->lxid != counted_transaction || statement_start != counted_statement_start) {
    counted_transaction = MyProc->lxid;
    counted_statement_start = statement_start;
    network_verifications = 0;
  }
  const std::size_t before = network_verifications;
  network_verifications += count;
  if (before >= kRowByRowNoticeAfter || network_verifications < kRowByRowNoticeAfter) return;
  ereport(NOTICE,
          (errcode(ERRCODE_WARNING),
           errmsg("mailsentry: this statement has made %zu network verifications one "
                  "verify_email() call at a time",
                  network_verifications),
           errdetail("Each call waits for its own answer before the next row starts; a set of "
                     "addresses is probed together, pipelined per mail server."),
           errhint("For many rows, verify them as a set with verify_emails(ARRAY(SELECT ...)) "
                   "and join the rows back, or run a background job with mailsentry.submit().")));
}

}  // namespace mailsentry::pg
