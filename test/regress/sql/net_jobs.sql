-- Background jobs: submit, progress, results, cancel.
\pset null '(null)'
SELECT it.wait_for_worker() AS worker_running;

-- A job starts when the submitting transaction commits. Exact duplicates,
-- NULLs and empty strings are not queued.
BEGIN;
SELECT mailsentry.submit(ARRAY['ann@multiline-mail.net', 'ed@exists-mail.net', 'zoe@exists-mail.net',
                               'ed@exists-mail.net', NULL, '', 'not an address'],
                         label => 'first') AS job \gset
SELECT pg_sleep(1.5);
SELECT state, total, done FROM mailsentry.jobs WHERE job_id = :job;
COMMIT;
SELECT it.wait_for_job(:job);
SELECT source, depth, state, total, done, percent_done, valid, caution, risky, invalid,
       started_at IS NOT NULL AS started, finished_at >= started_at AS finished_after_start,
       addresses_per_second > 0 AS has_rate, estimated_time_left
FROM mailsentry.jobs WHERE job_id = :job;
SELECT item, email, verdict, smtp_valid FROM mailsentry.job_results WHERE job_id = :job ORDER BY item;
-- The verdicts are in the cache too.
SELECT address, smtp_outcome FROM mailsentry.cache
WHERE address IN ('ann@multiline-mail.net', 'zoe@exists-mail.net') ORDER BY 1;

-- From a table column, read with the submitter's privileges.
CREATE TABLE it.signups (id int, email text);
INSERT INTO it.signups VALUES (1, 'ed@exists-mail.net'), (2, 'eve.smith@exists-mail.net'),
                              (3, 'x@nxdomain-mail.net');
CREATE ROLE mailsentry_jobs_user LOGIN;
GRANT USAGE ON SCHEMA it TO mailsentry_jobs_user;
GRANT EXECUTE ON FUNCTION mailsentry.submit(text[], text, text),
  mailsentry.submit(regclass, name, text), mailsentry.cancel(bigint) TO mailsentry_jobs_user;
SET SESSION AUTHORIZATION mailsentry_jobs_user;
SELECT mailsentry.submit('it.signups'::regclass, 'email');
RESET SESSION AUTHORIZATION;
GRANT SELECT (email) ON it.signups TO mailsentry_jobs_user;
SET SESSION AUTHORIZATION mailsentry_jobs_user;
SELECT mailsentry.submit('it.signups'::regclass, 'email') AS job2 \gset
-- Job addresses are personal data: not readable by PUBLIC; progress is.
SELECT count(*) FROM mailsentry.job_items;
SELECT count(*) FROM mailsentry.job_results;
SELECT count(*) > 0 AS sees_jobs FROM mailsentry.jobs;
-- Nor may a role cancel another role's job.
SELECT mailsentry.cancel(:job);
RESET SESSION AUTHORIZATION;
SELECT it.wait_for_job(:job2);
SELECT submitted_by, source, total, done FROM mailsentry.jobs WHERE job_id = :job2;
-- Row-level security applies too: the job holds only the rows the submitter
-- may see, because the table is read in the submitter's session.
ALTER TABLE it.signups ENABLE ROW LEVEL SECURITY;
CREATE POLICY signups_seen ON it.signups FOR SELECT TO mailsentry_jobs_user USING (id <> 3);
SET SESSION AUTHORIZATION mailsentry_jobs_user;
SELECT mailsentry.submit('it.signups'::regclass, 'email') AS job_rls \gset
RESET SESSION AUTHORIZATION;
SELECT it.wait_for_job(:job_rls);
SELECT total, done FROM mailsentry.jobs WHERE job_id = :job_rls;
SELECT email FROM mailsentry.job_items WHERE job_id = :job_rls ORDER BY item;
ALTER TABLE it.signups DISABLE ROW LEVEL SECURITY;

-- Cancelling stops a running job; its verdicts so far stay cached.
SELECT mailsentry.submit(ARRAY(SELECT 'slow' || i || '@slow-mail.net' FROM generate_series(1, 20) i))
  AS job3 \gset
SELECT pg_sleep(1.5);
SELECT mailsentry.cancel(:job3) AS cancelled;
SELECT mailsentry.cancel(:job3) AS cancelled_again;
SELECT mailsentry.cancel(-1) AS no_such_job;
SELECT state, done < total AS stopped_early FROM mailsentry.jobs WHERE job_id = :job3;

-- Bad input.
SELECT mailsentry.submit(ARRAY['a@b.org'], 'deep');
SELECT mailsentry.submit(NULL::text[]);
SELECT mailsentry.submit('it.signups'::regclass, 'no_such_column');
SELECT mailsentry.submit('{}'::text[]) AS empty_job \gset
SELECT state, total FROM mailsentry.jobs WHERE job_id = :empty_job;

-- forget() erases an address from the jobs as well.
SELECT mailsentry.forget('zoe@exists-mail.net') AS forgotten;
SELECT count(*) FROM mailsentry.job_items WHERE email = 'zoe@exists-mail.net';

-- submit() takes each exact text once, numbered in order of first occurrence
-- (mailsentry.distinct_elements); NULL and empty elements are left out.
SELECT * FROM mailsentry.distinct_elements(ARRAY['b@x.org', NULL, 'a@x.org', '', 'b@x.org',
                                                 'A@x.org', 'a@x.org']);
SELECT count(*) AS rows FROM mailsentry.distinct_elements('{}'::text[]);
SELECT count(*) AS rows FROM mailsentry.distinct_elements(NULL);

-- The worker reports its writes to the statistics autovacuum works from, and
-- recording a batch of verdicts reads only that batch's items, even right
-- after a submit, before the table has statistics (it used to read every
-- pending item of the job for each batch).
CREATE FUNCTION it.job_items_stats(OUT updated bigint, OUT read bigint) LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_stat_clear_snapshot();
  SELECT n_tup_upd, seq_tup_read + coalesce(idx_tup_fetch, 0) INTO updated, read
  FROM pg_stat_user_tables WHERE relid = 'mailsentry.job_items'::regclass;
END $$;
CREATE FUNCTION it.wait_for_job_items_updates(target bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..100 LOOP
    EXIT WHEN (SELECT updated FROM it.job_items_stats()) >= target;
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT * FROM it.job_items_stats() \gset before_
SELECT mailsentry.submit(ARRAY(SELECT 'user' || i || '@nxdomain-mail.net'
                               FROM generate_series(1, 5000) i)) AS job4 \gset
SELECT it.wait_for_job(:job4);
SELECT it.wait_for_job_items_updates(:before_updated + 5000);
SELECT updated - :before_updated >= 5000 AS worker_updates_counted,
       (read - :before_read) < 3 * 5000 AS reads_bounded_by_batches
FROM it.job_items_stats();

-- Deleting a job deletes its items; emptying the job table empties them all.
SELECT count(*) > 0 AS has_items FROM mailsentry.job_items WHERE job_id = :job2;
DELETE FROM mailsentry.job_queue WHERE job_id = :job2;
SELECT count(*) AS items_left FROM mailsentry.job_items WHERE job_id = :job2;
SELECT count(*) > 0 AS other_jobs_keep_items FROM mailsentry.job_items;
TRUNCATE mailsentry.job_queue;
SELECT count(*) AS items_left FROM mailsentry.job_items;

DROP OWNED BY mailsentry_jobs_user;
DROP ROLE mailsentry_jobs_user;
