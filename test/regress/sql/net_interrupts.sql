-- A waiting call honours statement_timeout and pg_cancel_backend within
-- 100 ms and frees its slot; a worker that goes away ends the wait.
SELECT it.wait_for_worker() AS worker_running;

-- The calls below wait on slow-mail.net, whose MX answers MAIL FROM after 3 s
-- (within this session's timeout, so no timeout trips its circuit breaker).
SET mailsentry.smtp_timeouts = '5000';

-- statement_timeout while the worker waits for the slow server.
SET statement_timeout = '600ms';
CREATE TEMP TABLE timing AS SELECT clock_timestamp() AS started;
SELECT verify_email('sue@slow-mail.net', refresh => true);
RESET statement_timeout;
SELECT extract(epoch FROM clock_timestamp() - started) BETWEEN 0.6 AND 0.8 AS ended_at_timeout
FROM timing;
-- The slot was given back: the queue still serves this session.
SELECT smtp_valid FROM verify_email('bob@postfix-mail.net', refresh => true);

-- pg_cancel_backend on a call running in another session.
SELECT it.connect('waiter');
SELECT dblink_exec('waiter', $$SET mailsentry.smtp_timeouts = '5000'$$);
SELECT dblink_send_query('waiter', $$SELECT verify_email('sue@slow-mail.net', refresh => true)$$);
SELECT pg_sleep(0.3);
CREATE TEMP TABLE cancelled AS
  SELECT clock_timestamp() AS at,
         pg_cancel_backend(pid) AS sent
  FROM pg_stat_activity WHERE application_name = 'waiter';
SELECT sent FROM cancelled;
DO $$
BEGIN
  WHILE dblink_is_busy('waiter') = 1 LOOP PERFORM pg_sleep(0.01); END LOOP;
END $$;
SELECT extract(epoch FROM clock_timestamp() - at) < 0.2 AS ended_within_100ms FROM cancelled;
SELECT * FROM dblink_get_result('waiter', false) AS r(v text);
SELECT dblink_disconnect('waiter');

-- The worker terminated while a call waits: before it goes, the worker
-- answers what it had taken with an estimate that says why, so the call
-- ends at once (the new worker is not waited for).
SELECT it.connect('orphan');
SELECT dblink_exec('orphan', $$SET mailsentry.smtp_timeouts = '5000'$$);
SELECT dblink_send_query('orphan', $$SELECT verdict || ' | ' || warning FROM verify_email('sue@slow-mail.net', refresh => true)$$);
SELECT pg_sleep(0.3);
CREATE TEMP TABLE terminated AS
  SELECT clock_timestamp() AS at, pg_terminate_backend(pid) AS sent
  FROM pg_stat_activity WHERE backend_type = 'mailsentry worker';
SELECT sent FROM terminated;
DO $$
BEGIN
  WHILE dblink_is_busy('orphan') = 1 LOOP PERFORM pg_sleep(0.01); END LOOP;
END $$;
SELECT extract(epoch FROM clock_timestamp() - at) < 1.5 AS ended_within_a_second FROM terminated;
SELECT * FROM dblink_get_result('orphan') AS r(answer text);
SELECT dblink_disconnect('orphan');
-- The worker comes back by itself and serves again.
SELECT it.wait_for_worker() AS worker_back;
SELECT smtp_valid FROM verify_email('carol@postfix-mail.net', refresh => true);

-- mailsentry.enabled = off: the worker drops its database connection and
-- calls fail with a hint; switched on again, it comes back by itself.
ALTER SYSTEM SET mailsentry.enabled = off;
SELECT it.reload();
SELECT smtp_valid FROM verify_email('carol@postfix-mail.net', refresh => true);
DO $$
BEGIN
  FOR attempt IN 1..100 LOOP
    PERFORM pg_stat_clear_snapshot();
    EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity
                          WHERE backend_type = 'mailsentry worker' AND datname IS NOT NULL);
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT count(*) AS workers_connected FROM pg_stat_activity
WHERE backend_type = 'mailsentry worker' AND datname IS NOT NULL;
ALTER SYSTEM RESET mailsentry.enabled;
SELECT it.reload();
SELECT it.wait_for_worker() AS worker_back;
SELECT smtp_valid FROM verify_email('carol@postfix-mail.net', refresh => true);
