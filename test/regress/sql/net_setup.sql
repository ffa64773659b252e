-- Setup of the network suite (run against test/integration/servers.sh).
CREATE EXTENSION mailsentry;
CREATE EXTENSION dblink;
CREATE SCHEMA it;

-- Events of a scripted SMTP server: one row per JSON line of its transcript.
CREATE FUNCTION it.smtp(server text)
RETURNS TABLE (t double precision, conn int, dir text, line text) LANGUAGE sql AS $$
  SELECT (e->>'t')::double precision, (e->>'conn')::int, e->>'dir', e->>'text'
  FROM regexp_split_to_table(pg_read_file('/tmp/mailsentry-it/smtp-' || server || '.jsonl'),
                             E'\n') AS l,
       LATERAL (SELECT l::jsonb AS e) j
  WHERE l <> ''
$$;

-- Blocks until the worker runs in this database (it starts with the server)
-- and takes requests (a worker that is exiting has already left the queue).
CREATE FUNCTION it.wait_for_worker() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  FOR attempt IN 1..200 LOOP
    PERFORM pg_stat_clear_snapshot();
    IF EXISTS (SELECT FROM pg_stat_activity a JOIN mailsentry.stats s ON s.worker_pid = a.pid
               WHERE a.backend_type = 'mailsentry worker' AND a.datname = current_database()) THEN
      RETURN true;
    END IF;
    PERFORM pg_sleep(0.05);
  END LOOP;
  RETURN false;
END $$;

-- Waits until the worker has read a reloaded configuration (ALTER SYSTEM
-- cannot run inside a function, so tests do that part themselves).
CREATE FUNCTION it.reload() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_reload_conf();
  PERFORM pg_sleep(0.5);
  RETURN true;
END $$;

-- A second connection to this database, for calls that must run while this
-- session acts (cancel, terminate).
CREATE FUNCTION it.connect(name text) RETURNS text LANGUAGE sql AS $$
  SELECT dblink_connect(name, format('dbname=%s host=%s port=%s application_name=%s',
         current_database(), split_part(current_setting('unix_socket_directories'), ',', 1),
         current_setting('port'), name))
$$;

SELECT it.wait_for_worker() AS worker_running;

-- Waits (up to 30 s) until a background job has ended; returns its state.
CREATE FUNCTION it.wait_for_job(job bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  job_state text;
BEGIN
  FOR attempt IN 1..300 LOOP
    SELECT state INTO job_state FROM mailsentry.jobs WHERE job_id = job;
    EXIT WHEN job_state IN ('finished', 'cancelled');
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN job_state;
END $$;
