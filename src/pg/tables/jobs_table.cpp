#include "tables/jobs_table.hpp"

#include <algorithm>

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
}

#include "tables/spi_fields.hpp"
#include "worker/worker_transaction.hpp"

namespace mailsentry::pg {

bool job_still_wanted(std::int64_t job_id) {
  Oid types[] = {INT8OID};
  Datum values[] = {Int64GetDatum(job_id)};
  spi_run("reading a job's state", SPI_OK_SELECT,
          "SELECT state IN ('queued', 'running') FROM mailsentry.job_queue WHERE job_id = $1", 1,
          types, values, nullptr, true, 1);
  return SPI_processed > 0 &&
         bool_field(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) == TriState::yes;
}

bool take_next_job(JobTaken& out) {
  spi_run(
      "taking a job", SPI_OK_UPDATE_RETURNING,
      "UPDATE mailsentry.job_queue SET state = 'running', started_at = coalesce(started_at, now()) "
      "WHERE job_id = (SELECT job_id FROM mailsentry.job_queue "
      "                WHERE state IN ('queued', 'running') ORDER BY job_id LIMIT 1) "
      "RETURNING job_id, depth",
      0, nullptr, nullptr, nullptr, false, 1);
  if (SPI_processed == 0) return false;
  out.job_id = int8_field(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
  out.depth = Depth::standard;
  // The table's CHECK allows only mailsentry.depth_names().
  (void)parse_depth(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2), out.depth);
  return true;
}

JobItems read_pending_job_items(std::int64_t job_id, std::int64_t after, std::int64_t limit) {
  Oid types[] = {INT8OID, INT8OID, INT8OID};
  Datum values[] = {Int64GetDatum(job_id), Int64GetDatum(after), Int64GetDatum(limit)};
  spi_run("reading a job's addresses", SPI_OK_SELECT,
          "SELECT item, email FROM mailsentry.job_items "
          "WHERE job_id = $1 AND verdict IS NULL AND item > $2 ORDER BY item LIMIT $3",
          3, types, values, nullptr, true, 0);
  const int rows = static_cast<int>(SPI_processed);
  JobItems out{rows, static_cast<std::int64_t*>(palloc(sizeof(std::int64_t) * (rows + 1))),
               static_cast<Utf8Text*>(palloc(sizeof(Utf8Text) * (rows + 1)))};
  for (int i = 0; i < rows; ++i) {
    bool isnull;
    HeapTuple row = SPI_tuptable->vals[i];
    out.items[i] = int8_field(row, SPI_tuptable->tupdesc, 1);
    out.emails[i] =
        text_as_utf8(DatumGetTextPP(SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull)));
  }
  return out;
}

void record_job_verdicts(std::int64_t job_id, const JobVerdict* verdicts, int count) {
  Datum* items = static_cast<Datum*>(palloc(sizeof(Datum) * (count + 1)));
  Datum* names = static_cast<Datum*>(palloc(sizeof(Datum) * (count + 1)));
  Datum* scores = static_cast<Datum*>(palloc(sizeof(Datum) * (count + 1)));
  std::int64_t first_item = count > 0 ? verdicts[0].item : 0;
  std::int64_t last_item = first_item;
  for (int i = 0; i < count; ++i) {
    first_item = std::min(first_item, verdicts[i].item);
    last_item = std::max(last_item, verdicts[i].item);
    items[i] = Int64GetDatum(verdicts[i].item);
    names[i] = CStringGetTextDatum(verdicts[i].verdict);
    scores[i] = Int32GetDatum(verdicts[i].score);
  }
  Oid types[] = {INT8OID, INT8ARRAYOID, TEXTARRAYOID, INT4ARRAYOID, INT8OID, INT8OID};
  Datum values[] = {
      Int64GetDatum(job_id),
      PointerGetDatum(construct_array(items, count, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
      PointerGetDatum(construct_array(names, count, TEXTOID, -1, false, TYPALIGN_INT)),
      PointerGetDatum(construct_array(scores, count, INT4OID, 4, true, TYPALIGN_INT)),
      Int64GetDatum(first_item),
      Int64GetDatum(last_item)};
  // The range of items bounds the scan of job_items whatever the plan: right
  // after a large submit the table has no statistics, and the planner hashed
  // all of the job's pending items for every batch (a 1M job ran at a
  // fifth of its speed until autovacuum analyzed the table).
  spi_run("recording job progress", SPI_OK_UPDATE,
          "WITH done AS ("
          "  UPDATE mailsentry.job_items i SET verdict = u.verdict, score = u.score, "
          "    done_at = now() "
          "  FROM unnest($2, $3, $4) AS u(item, verdict, score) "
          "  WHERE i.job_id = $1 AND i.item BETWEEN $5 AND $6 AND i.item = u.item "
          "    AND i.verdict IS NULL "
          "    AND (SELECT state FROM mailsentry.job_queue WHERE job_id = $1) = 'running' "
          "  RETURNING u.verdict) "
          "UPDATE mailsentry.job_queue SET done = done + (SELECT count(*) FROM done), "
          "  valid = valid + (SELECT count(*) FROM done WHERE verdict = 'valid'), "
          "  caution = caution + (SELECT count(*) FROM done WHERE verdict = 'caution'), "
          "  risky = risky + (SELECT count(*) FROM done WHERE verdict = 'risky'), "
          "  invalid = invalid + (SELECT count(*) FROM done WHERE verdict = 'invalid') "
          "WHERE job_id = $1",
          6, types, values, nullptr, false, 0);
}

bool finish_job_if_done(std::int64_t job_id) {
  Oid types[] = {INT8OID};
  Datum values[] = {Int64GetDatum(job_id)};
  spi_run("finishing a job", SPI_OK_UPDATE_RETURNING,
          "UPDATE mailsentry.job_queue SET state = 'finished', finished_at = now() "
          "WHERE job_id = $1 AND state = 'running' AND NOT EXISTS "
          "(SELECT FROM mailsentry.job_items WHERE job_id = $1 AND verdict IS NULL) "
          "RETURNING job_id",
          1, types, values, nullptr, false, 1);
  if (SPI_processed == 0) return false;
  spi_run("notifying a job's end", SPI_OK_SELECT,
          "SELECT pg_catalog.pg_notify('mailsentry_jobs', $1::text)", 1, types, values, nullptr,
          false, 1);
  return true;
}

}  // namespace mailsentry::pg
