-- The extension belongs in mailsentry.database, where the worker runs.
SELECT mailsentry.worker_database() = current_database() AS here;
SELECT current_database() AS home_database \gset
CREATE DATABASE mailsentry_elsewhere;
\c mailsentry_elsewhere
CREATE EXTENSION mailsentry;
\c :home_database
-- The worker is connected to this database only, so another one can be dropped.
DROP DATABASE mailsentry_elsewhere;
-- (The worker connects once the database exists: wait up to 10 s.)
DO $$
BEGIN
  FOR attempt IN 1..100 LOOP
    PERFORM pg_stat_clear_snapshot();
    EXIT WHEN EXISTS (SELECT FROM pg_stat_activity
                      WHERE backend_type = 'mailsentry worker' AND datname = current_database());
    PERFORM pg_sleep(0.1);
  END LOOP;
END
$$;
SELECT count(*) AS workers FROM pg_stat_activity
WHERE backend_type = 'mailsentry worker' AND datname = current_database();
