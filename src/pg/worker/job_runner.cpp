#include "worker/job_runner.hpp"

#include "base/postgres_headers.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
}

#include <string>
#include <vector>

#include "base/guard.hpp"
#include "base/settings.hpp"
#include "base/text_encoding.hpp"
#include "tables/cache_table.hpp"
#include "tables/user_config.hpp"
#include "verdict/engine_config.hpp"
#include "verdict/verification_steps.hpp"
#include "worker/worker_requests.hpp"
#include "worker/worker_transaction.hpp"

namespace mailsentry::pg {

namespace {

struct FinishedItem {
  std::int64_t job_id;
  std::int64_t item;
  char verdict[16];
  int score;
};

struct FetchedItem {
  std::int64_t item;
  std::string email;
};

// Globals: no C++ object on a stack that an ereport could unwind.
std::int64_t current_job = 0;
std::uint8_t current_depth = static_cast<std::uint8_t>(Depth::standard);
std::int64_t cursor = 0;  // items up to here were fetched (pending ones: in flight)
std::vector<FinishedItem> finished;
std::vector<FetchedItem> fetched;
Verification scratch;
NetworkRequestPod request_pod;
CacheEntry cache_entry;

Datum int8_datum(std::int64_t value) { return Int64GetDatum(value); }

bool current_job_still_wanted() {
  Oid types[] = {INT8OID};
  Datum values[] = {int8_datum(current_job)};
  spi_run("reading a job's state", SPI_OK_SELECT,
          "SELECT state FROM mailsentry.job_queue WHERE job_id = $1", 1, types, values, nullptr,
          true, 1);
  if (SPI_processed == 0) return false;
  const char* state = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
  return strcmp(state, "queued") == 0 || strcmp(state, "running") == 0;
}

bool take_next_job() {
  spi_run(
      "taking a job", SPI_OK_UPDATE_RETURNING,
      "UPDATE mailsentry.job_queue SET state = 'running', started_at = coalesce(started_at, now()) "
      "WHERE job_id = (SELECT job_id FROM mailsentry.job_queue "
      "                WHERE state IN ('queued', 'running') ORDER BY job_id LIMIT 1) "
      "RETURNING job_id, depth",
      0, nullptr, nullptr, nullptr, false, 1);
  if (SPI_processed == 0) return false;
  bool isnull;
  current_job =
      DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
  const char* depth = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
  Depth parsed = Depth::standard;
  (void)parse_depth(depth, parsed);
  current_depth = static_cast<std::uint8_t>(parsed);
  cursor = 0;
  return true;
}

// Reads up to `limit` pending items after the cursor into `fetched`.
void fetch_items(std::int64_t limit) {
  Oid types[] = {INT8OID, INT8OID, INT8OID};
  Datum values[] = {int8_datum(current_job), int8_datum(cursor), int8_datum(limit)};
  spi_run("reading a job's addresses", SPI_OK_SELECT,
          "SELECT item, email FROM mailsentry.job_items "
          "WHERE job_id = $1 AND verdict IS NULL AND item > $2 ORDER BY item LIMIT $3",
          3, types, values, nullptr, true, 0);
  const uint64 rows = SPI_processed;
  std::int64_t* items = static_cast<std::int64_t*>(palloc(sizeof(std::int64_t) * (rows + 1)));
  Utf8Text* emails = static_cast<Utf8Text*>(palloc(sizeof(Utf8Text) * (rows + 1)));
  for (uint64 i = 0; i < rows; ++i) {
    bool isnull;
    HeapTuple row = SPI_tuptable->vals[i];
    items[i] = DatumGetInt64(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull));
    emails[i] = text_as_utf8(DatumGetTextPP(SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull)));
  }
  raise_if_failed(
      run_guarded("reading a job",
                  [&] {
                    fetched.clear();
                    for (uint64 i = 0; i < rows; ++i)
                      fetched.push_back({items[i], std::string(emails[i].data, emails[i].size)});
                  }),
      "mailsentry worker");
  if (rows > 0) cursor = items[rows - 1];
}

// Finishes at once what needs no network or is cached; submits the rest.
void start_item(std::size_t index) {
  bool needs_network = false;
  raise_if_failed(run_guarded("starting a job address",
                              [&] {
                                const std::optional<NetworkRequest> request = start_verification(
                                    fetched[index].email, static_cast<Depth>(current_depth),
                                    make_probe_settings(settings), current_lists(), scratch);
                                if (!request) {
                                  note_job_verdict(current_job, fetched[index].item,
                                                   fetched[index].email, current_depth, nullptr);
                                  return;
                                }
                                request_to_pod(*request, request_pod);
                                needs_network = true;
                              }),
                  "mailsentry worker");
  if (!needs_network) return;
  const bool cached =
      read_cache_entry(request_pod.address.bytes, request_pod.address.size, cache_entry) &&
      cache_entry_serves(cache_entry, static_cast<Depth>(current_depth));
  raise_if_failed(run_guarded("starting a job address",
                              [&] {
                                const FetchedItem& item = fetched[index];
                                if (cached) {
                                  const NetworkFacts facts = facts_from_pod(cache_entry.facts);
                                  note_job_verdict(current_job, item.item, item.email,
                                                   current_depth, &facts);
                                  return;
                                }
                                InternalRequest internal;
                                internal.kind = InternalKind::job_item;
                                internal.job_id = current_job;
                                internal.item = item.item;
                                internal.email = item.email;
                                submit_internal(std::move(internal), request_from_pod(request_pod));
                              }),
                  "mailsentry worker");
}

void finish_job_if_done() {
  Oid types[] = {INT8OID};
  Datum values[] = {int8_datum(current_job)};
  spi_run("finishing a job", SPI_OK_UPDATE_RETURNING,
          "UPDATE mailsentry.job_queue SET state = 'finished', finished_at = now() "
          "WHERE job_id = $1 AND state = 'running' AND NOT EXISTS "
          "(SELECT FROM mailsentry.job_items WHERE job_id = $1 AND verdict IS NULL) "
          "RETURNING job_id",
          1, types, values, nullptr, false, 1);
  if (SPI_processed == 0) {
    cursor = 0;  // some address was not finished: look again from the start
    return;
  }
  spi_run("notifying a job's end", SPI_OK_SELECT,
          "SELECT pg_catalog.pg_notify('mailsentry_jobs', $1::text)", 1, types, values, nullptr,
          false, 1);
  ereport(LOG,
          (errmsg("mailsentry worker: job %lld finished", static_cast<long long>(current_job))));
  current_job = 0;
}

void jobs_round() {
  if (!mailsentry_relations_exist({"job_queue", "job_items"})) return;
  if (current_job != 0 && !current_job_still_wanted()) {
    raise_if_failed(run_guarded("dropping a job", [] { forget_job(current_job); }),
                    "mailsentry worker");
    current_job = 0;
  }
  if (current_job == 0 && !take_next_job()) return;
  const std::int64_t room =
      settings.job_concurrency - static_cast<std::int64_t>(job_items_in_flight(current_job));
  std::size_t fetched_count = 0;
  // Refill when at least a tenth of the room is free: fewer, larger reads.
  if (room >= std::max(1, settings.job_concurrency / 10)) {
    fetch_items(room);
    fetched_count = fetched.size();
    for (std::size_t i = 0; i < fetched_count; ++i) start_item(i);
  }
  write_job_progress();
  if (fetched_count == 0 && job_items_in_flight(current_job) == 0) finish_job_if_done();
}

}  // namespace

void note_job_verdict(std::int64_t job_id, std::int64_t item, std::string_view email,
                      std::uint8_t depth, const NetworkFacts* facts) {
  if (job_id == 0) return;  // cancelled meanwhile: cached, not counted
  (void)start_verification(email, static_cast<Depth>(depth), ProbeSettings{}, current_lists(),
                           scratch);
  std::optional<NetworkFacts> network;
  if (facts != nullptr) network = *facts;
  finish_verification(scratch, std::move(network), "", current_weights());
  FinishedItem done{job_id, item, {0}, scratch.assessment.score};
  const std::string_view verdict = verdict_name(scratch.assessment.verdict);
  verdict.copy(done.verdict, std::min(verdict.size(), sizeof done.verdict - 1));
  finished.push_back(done);
}

bool job_progress_pending() { return !finished.empty(); }

bool job_active() { return current_job != 0; }

void write_job_progress() {
  // One statement per job: the items' verdicts and the job's counters. A
  // cancelled job's counters stay as they were (the verdicts are cached).
  std::size_t start = 0;
  while (start < finished.size()) {
    const std::int64_t job_id = finished[start].job_id;
    std::size_t end = start;
    int count = 0;
    Datum* items = static_cast<Datum*>(palloc(sizeof(Datum) * (finished.size() - start)));
    Datum* verdicts = static_cast<Datum*>(palloc(sizeof(Datum) * (finished.size() - start)));
    Datum* scores = static_cast<Datum*>(palloc(sizeof(Datum) * (finished.size() - start)));
    for (; end < finished.size() && finished[end].job_id == job_id; ++end, ++count) {
      items[count] = Int64GetDatum(finished[end].item);
      verdicts[count] = CStringGetTextDatum(finished[end].verdict);
      scores[count] = Int32GetDatum(finished[end].score);
    }
    Oid types[] = {INT8OID, INT8ARRAYOID, TEXTARRAYOID, INT4ARRAYOID};
    Datum values[] = {
        Int64GetDatum(job_id),
        PointerGetDatum(
            construct_array(items, count, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
        PointerGetDatum(construct_array(verdicts, count, TEXTOID, -1, false, TYPALIGN_INT)),
        PointerGetDatum(construct_array(scores, count, INT4OID, 4, true, TYPALIGN_INT))};
    spi_run("recording job progress", SPI_OK_UPDATE,
            "WITH done AS ("
            "  UPDATE mailsentry.job_items i SET verdict = u.verdict, score = u.score, "
            "    done_at = now() "
            "  FROM unnest($2, $3, $4) AS u(item, verdict, score) "
            "  WHERE i.job_id = $1 AND i.item = u.item AND i.verdict IS NULL "
            "    AND (SELECT state FROM mailsentry.job_queue WHERE job_id = $1) = 'running' "
            "  RETURNING u.verdict) "
            "UPDATE mailsentry.job_queue SET done = done + (SELECT count(*) FROM done), "
            "  valid = valid + (SELECT count(*) FROM done WHERE verdict = 'valid'), "
            "  caution = caution + (SELECT count(*) FROM done WHERE verdict = 'caution'), "
            "  risky = risky + (SELECT count(*) FROM done WHERE verdict = 'risky'), "
            "  invalid = invalid + (SELECT count(*) FROM done WHERE verdict = 'invalid') "
            "WHERE job_id = $1",
            4, types, values, nullptr, false, 0);
    start = end;
  }
  finished.clear();
}

void run_jobs() {
  if (!run_in_transaction("running jobs", jobs_round)) {
    // The round's verdicts were not recorded; their items stay pending and
    // come back from the start.
    finished.clear();
    cursor = 0;
  }
}

}  // namespace mailsentry::pg
