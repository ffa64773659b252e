-- Every failure path at the C++/PostgreSQL boundary, provoked through
-- mailsentry.debug_fail_point: a clear ERROR with a SQLSTATE (or, in the
-- worker, an estimated verdict that says why), no queue slot left behind,
-- and the backend and the worker stay up.
\set VERBOSITY terse
\pset null '(null)'
SELECT it.wait_for_worker() AS worker_running;
SELECT worker_starts AS starts_before FROM mailsentry.stats \gset
-- One slot per session: a slot a failure path forgot to give back would
-- make the next call wait 200 ms and fail.
SET mailsentry.queue_slots_per_backend = 1;
SET mailsentry.queue_wait_timeout = '200ms';

-- verify_email before it claims a slot, and after its answer came back.
SET mailsentry.debug_fail_point = 'verify_email';
SELECT smtp_valid FROM verify_email('alice@postfix-mail.net', refresh => true);
\echo :LAST_ERROR_SQLSTATE
SET mailsentry.debug_fail_point = 'verify_email finishing:bad_alloc';
SELECT smtp_valid FROM verify_email('alice@postfix-mail.net', refresh => true);
\echo :LAST_ERROR_SQLSTATE
RESET mailsentry.debug_fail_point;
SELECT smtp_valid FROM verify_email('alice@postfix-mail.net', refresh => true);

-- verify_emails: the request for a slot it claimed cannot be built; a
-- verdict cannot be finished while other addresses are with the worker.
SET mailsentry.debug_fail_point = 'verify_emails submitting';
SELECT count(*) FROM verify_emails(ARRAY['alice@postfix-mail.net', 'zed@postfix-mail.net'], refresh => true);
\echo :LAST_ERROR_SQLSTATE
RESET mailsentry.debug_fail_point;
SELECT email, smtp_valid FROM verify_emails(ARRAY['alice@postfix-mail.net', 'zed@postfix-mail.net'], refresh => true) ORDER BY email;
SET mailsentry.queue_slots_per_backend = 2;
SET mailsentry.debug_fail_point = 'verify_emails finishing';
SELECT count(*) FROM verify_emails(ARRAY['alice@postfix-mail.net', 'zed@postfix-mail.net', 'carol@implicit-mail.net'], refresh => true);
\echo :LAST_ERROR_SQLSTATE
RESET mailsentry.debug_fail_point;
SET mailsentry.queue_slots_per_backend = 1;
SELECT email, smtp_valid FROM verify_emails(ARRAY['alice@postfix-mail.net', 'zed@postfix-mail.net'], refresh => true) ORDER BY email;

-- The listing functions build their static tables inside the guard.
SET mailsentry.debug_fail_point = 'mailsentry.list_names:bad_alloc';
SELECT count(*) FROM mailsentry.list_names();
\echo :LAST_ERROR_SQLSTATE
SET mailsentry.debug_fail_point = 'mailsentry.default_weights';
SELECT count(*) FROM mailsentry.default_weights();
\echo :LAST_ERROR_SQLSTATE
SET mailsentry.debug_fail_point = 'mailsentry_builtin_list';
SELECT count(*) FROM mailsentry.builtin_list('role');
\echo :LAST_ERROR_SQLSTATE
RESET mailsentry.debug_fail_point;
SELECT count(*) > 0 AS lists_listed FROM mailsentry.list_names();

-- In the worker: a request it cannot take is answered at once with an
-- estimated verdict that says why; an answer it cannot store likewise.
ALTER SYSTEM SET mailsentry.debug_fail_point = 'submitting a request';
SELECT it.reload();
SELECT smtp_valid, verification_level, warning FROM verify_email('alice@postfix-mail.net', refresh => true);
ALTER SYSTEM SET mailsentry.debug_fail_point = 'storing an answer';
SELECT it.reload();
SELECT smtp_valid, verification_level, warning FROM verify_email('alice@postfix-mail.net', refresh => true);
-- A transaction writing verdicts that fails: the caller still gets its
-- answer; the verdict is not cached.
DELETE FROM mailsentry.cache WHERE address = 'bob@postfix-mail.net';
ALTER SYSTEM SET mailsentry.debug_fail_point = 'writing verdicts';
SELECT it.reload();
SELECT smtp_valid, verification_level FROM verify_email('bob@postfix-mail.net', refresh => true);
SELECT count(*) AS cached_rows FROM mailsentry.cache WHERE address = 'bob@postfix-mail.net';
ALTER SYSTEM RESET mailsentry.debug_fail_point;
SELECT it.reload();
SELECT smtp_valid FROM verify_email('bob@postfix-mail.net', refresh => true);
SELECT count(*) AS cached_rows FROM mailsentry.cache WHERE address = 'bob@postfix-mail.net';

-- Nothing held afterwards, and the worker never restarted.
SELECT in_flight, queued, worker_starts = :starts_before AS same_worker FROM mailsentry.stats;
RESET mailsentry.queue_slots_per_backend;
RESET mailsentry.queue_wait_timeout;
