-- Parallel plans: the functions that read the verdict cache work in a
-- parallel worker and in the leader of a parallel plan (both are in
-- parallel mode, where no new snapshot may be taken).
\pset null '(null)'
SELECT it.wait_for_worker() AS worker_running;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
-- Whether the plan of a query has a Gather node.
CREATE FUNCTION it.parallel_plan(query text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
    IF line LIKE '%Gather%' THEN
      RETURN true;
    END IF;
  END LOOP;
  RETURN false;
END $$;

-- The cache as a view (cached_result runs in the parallel workers).
SELECT it.parallel_plan('SELECT count(*) FROM mailsentry.verdicts') AS parallel;
SELECT count(*) > 0 AS rows_read FROM mailsentry.verdicts;
SELECT count(*) FILTER (WHERE verdict IS NULL) AS without_verdict FROM mailsentry.verdicts;

-- verify_email over a table: PARALLEL UNSAFE, so the query takes no
-- parallel plan (the leader of one is in parallel mode, where the cache
-- cannot be read as last committed), and the call works.
CREATE TABLE it.addresses AS
  SELECT CASE WHEN i % 2 = 0 THEN 'ed@exists-mail.net' ELSE 'zed@exists-mail.net' END AS email
  FROM generate_series(1, 2000) AS i;
ANALYZE it.addresses;
SELECT it.parallel_plan('SELECT count(*) FROM it.addresses') AS parallel_without_it,
       it.parallel_plan('SELECT verify_email(email) FROM it.addresses') AS parallel_with_it;
SELECT v.verdict, v.cached, count(*)
FROM it.addresses a, LATERAL verify_email(a.email) v
GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS job_result_rows FROM mailsentry.job_results;
DROP TABLE it.addresses;
