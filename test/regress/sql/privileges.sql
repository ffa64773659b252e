-- The privilege model of README "Privileges", one block per line there.
-- Nothing here needs the network; jobs are submitted in transactions that
-- are rolled back, so the worker never sees them.
\pset null '(null)'
CREATE ROLE mailsentry_priv_alice;
CREATE ROLE mailsentry_priv_bob;
CREATE ROLE mailsentry_priv_carol IN ROLE mailsentry_priv_alice;  -- a member of alice
CREATE ROLE mailsentry_priv_dave;

-- Probing the network is granted explicitly: not to PUBLIC.
SELECT p.oid::regprocedure AS function, has_function_privilege('mailsentry_priv_bob', p.oid, 'EXECUTE') AS bob_may
FROM pg_proc p
WHERE p.proname IN ('verify_email', 'verify_email_json', 'verify_emails')
ORDER BY p.oid::regprocedure::text;
SET ROLE mailsentry_priv_bob;
SELECT verify_email('jane@acme-widgets.com');
SELECT verify_emails(ARRAY['jane@acme-widgets.com']);
-- The network-free checks are for everyone.
SELECT email_syntax_valid('jane@acme-widgets.com') AS valid,
       email_normalize('Jane@ACME-widgets.com') AS normalized,
       email_suggest('jane@gmial.com') AS suggestion,
       (email_check_offline('jane@acme-widgets.com')).verification_level;
SELECT 'jane@acme-widgets.com'::email_address;
RESET ROLE;

-- The cache is personal data: neither it nor what reads it is for PUBLIC.
SET ROLE mailsentry_priv_bob;
SELECT count(*) FROM mailsentry.cache;
SELECT count(*) FROM mailsentry.verdicts;
SELECT cached FROM mailsentry.cached_result('jane@acme-widgets.com');
SELECT mailsentry.forget('jane@acme-widgets.com');
SELECT mailsentry.purge_cache();
RESET ROLE;

-- Domain facts, monitoring, lists and weights are readable by everyone;
-- only the extension's owner changes the overrides.
SET ROLE mailsentry_priv_bob;
SELECT (SELECT count(*) FROM mailsentry.domains) >= 0 AS domains,
       (SELECT count(*) FROM mailsentry.mx_health) >= 0 AS mx_health,
       (SELECT count(*) FROM mailsentry.domain_facts) >= 0 AS domain_facts,
       (SELECT count(*) FROM mailsentry.stats) = 1 AS stats,
       (SELECT count(*) FROM mailsentry.mx_stats) >= 0 AS mx_stats,
       (SELECT count(*) FROM mailsentry.registry_stats) >= 0 AS registry_stats,
       (SELECT count(*) FROM mailsentry.list_overrides) >= 0 AS list_overrides,
       (SELECT count(*) FROM mailsentry.weight_overrides) >= 0 AS weight_overrides,
       (SELECT count(*) FROM mailsentry.score_weights) > 0 AS score_weights;
INSERT INTO mailsentry.list_overrides (list_name, entry) VALUES ('disposable', 'bob-mail.net');
DELETE FROM mailsentry.weight_overrides;
RESET ROLE;

-- Submitting and cancelling jobs is granted explicitly too; the job tables
-- and job_results are not for PUBLIC.
SET ROLE mailsentry_priv_bob;
SELECT mailsentry.submit(ARRAY['jane@acme-widgets.com']);
SELECT mailsentry.cancel(1);
SELECT count(*) FROM mailsentry.job_queue;
SELECT count(*) FROM mailsentry.job_items;
SELECT count(*) FROM mailsentry.job_results;
RESET ROLE;

-- Settings. Server-wide ones are set in postgresql.conf or with ALTER SYSTEM,
-- by a superuser; SET is refused to everyone.
SET ROLE mailsentry_priv_bob;
ALTER SYSTEM SET mailsentry.max_connections_per_mx = 100;
SET mailsentry.max_connections_per_mx = 100;
-- Those that hold shared MX sessions longer are superuser-only.
SET mailsentry.smtp_timeouts = '600000';
SET mailsentry.greylist_retry_delay = '60s';
SET mailsentry.debug_fail_point = 'email_syntax_valid';
-- So are the caps on what one session and one login role hold in the queue.
SET mailsentry.queue_slots_per_backend = 65536;
SET mailsentry.queue_slots_per_role = 65536;
-- verify_timeout may be set by anyone, but it takes effect only up to
-- max_verify_timeout, which a role cannot raise (net_privileges shows the cap).
SET mailsentry.verify_timeout = '1h';
SHOW mailsentry.verify_timeout;
SET mailsentry.verify_timeout = '1s';
SHOW mailsentry.verify_timeout;
SET mailsentry.max_verify_timeout = '1h';
SHOW mailsentry.max_verify_timeout;
-- A call waiting for room in the queue holds no slot: anyone may set it.
SET mailsentry.queue_wait_timeout = '1min';
RESET mailsentry.verify_timeout;
RESET mailsentry.queue_wait_timeout;
RESET ROLE;
SELECT name, context FROM pg_settings
WHERE name IN ('mailsentry.smtp_timeouts', 'mailsentry.greylist_retry_delay',
               'mailsentry.verify_timeout', 'mailsentry.max_verify_timeout',
               'mailsentry.queue_wait_timeout', 'mailsentry.debug_fail_point',
               'mailsentry.queue_slots_per_backend', 'mailsentry.queue_slots_per_role')
ORDER BY name;
-- A superuser may set them.
SET mailsentry.smtp_timeouts = '1000,2000';
SET mailsentry.greylist_retry_delay = '10s';
RESET mailsentry.smtp_timeouts;
RESET mailsentry.greylist_retry_delay;

-- Check hooks: no setting takes a control character.
ALTER SYSTEM SET mailsentry.helo_name = E'h\rNOOP';
ALTER SYSTEM SET mailsentry.mail_from = E'h\rNOOP';
ALTER SYSTEM SET mailsentry.helo_name = E'mx.example.com\n';
ALTER SYSTEM SET mailsentry.mail_from = E'probe@example.com\x01';
ALTER SYSTEM SET mailsentry.dns_canary_domains = E'gmail.com,\toutlook.com';
ALTER SYSTEM SET mailsentry.dnsbl_zones = E'zen.example.org\x7f';
ALTER SYSTEM SET mailsentry.whois_server = E'whois.example.org\x1b';
ALTER SYSTEM SET mailsentry.rdap_bootstrap_file = E'/tmp/dns.json\x02';
ALTER SYSTEM SET mailsentry.dns_servers = E'127.0.0.1\x03';
ALTER SYSTEM SET mailsentry.source_addresses = E'127.0.0.1\x04';
ALTER SYSTEM SET mailsentry.database = E'postgres\x05';
SET mailsentry.smtp_timeouts = E'1500,\x062500';
SET mailsentry.debug_fail_point = E'email_check_offline\x07';
-- helo_name is a host name or an address literal.
ALTER SYSTEM SET mailsentry.helo_name = '';
ALTER SYSTEM SET mailsentry.helo_name = 'mx one.example.com';
ALTER SYSTEM SET mailsentry.helo_name = 'mx..example.com';
ALTER SYSTEM SET mailsentry.helo_name = '-mx.example.com';
ALTER SYSTEM SET mailsentry.helo_name = 'mx_1.example.com';
ALTER SYSTEM SET mailsentry.helo_name = '[192.0.2.300]';
ALTER SYSTEM SET mailsentry.helo_name = '[192.0.2.1';
ALTER SYSTEM SET mailsentry.helo_name = 'Mx-1.Example.COM';
ALTER SYSTEM SET mailsentry.helo_name = '[192.0.2.1]';
ALTER SYSTEM SET mailsentry.helo_name = '[IPv6:2001:db8::25]';
SELECT 'x' || repeat('.abcdefghij', 24) AS long_name \gset
ALTER SYSTEM SET mailsentry.helo_name = :'long_name';
ALTER SYSTEM SET mailsentry.helo_name = '0123456789012345678901234567890123456789012345678901234567890123.example.com';
-- mail_from is empty (<>) or a bare address.
ALTER SYSTEM SET mailsentry.mail_from = '<probe@example.com>';
ALTER SYSTEM SET mailsentry.mail_from = 'probe@example.com NOTIFY=NEVER';
ALTER SYSTEM SET mailsentry.mail_from = 'probe';
ALTER SYSTEM SET mailsentry.mail_from = 'probe@';
ALTER SYSTEM SET mailsentry.mail_from = 'probe@example.com';
ALTER SYSTEM SET mailsentry.mail_from = '';
-- Malformed values of the other checked settings.
ALTER SYSTEM SET mailsentry.dns_servers = '127.0.0.1:99999';
ALTER SYSTEM SET mailsentry.source_addresses = 'localhost';
SET mailsentry.smtp_timeouts = '1500,x';
ALTER SYSTEM RESET mailsentry.helo_name;
ALTER SYSTEM RESET mailsentry.mail_from;
-- The defaults pass their own checks.
SELECT name, setting FROM pg_settings
WHERE name IN ('mailsentry.helo_name', 'mailsentry.mail_from', 'mailsentry.smtp_timeouts',
               'mailsentry.dns_canary_domains', 'mailsentry.max_verify_timeout')
ORDER BY name;

-- Every SECURITY DEFINER function pins its search_path.
SELECT p.oid::regprocedure AS function, p.proconfig
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'mailsentry')
  AND p.prosecdef
ORDER BY p.oid::regprocedure::text;

-- Jobs. A job belongs to the session user that submitted it.
GRANT EXECUTE ON FUNCTION mailsentry.submit(text[], text, text), mailsentry.submit(regclass, name, text),
  mailsentry.cancel(bigint) TO mailsentry_priv_alice, mailsentry_priv_bob, mailsentry_priv_dave;
GRANT EXECUTE ON FUNCTION mailsentry.cancel(bigint) TO mailsentry_priv_carol;
GRANT SELECT ON mailsentry.job_results TO mailsentry_priv_bob, mailsentry_priv_carol;
GRANT EXECUTE ON FUNCTION mailsentry.cached_result(text) TO mailsentry_priv_bob, mailsentry_priv_carol;
-- A label is at most 200 characters.
SET SESSION AUTHORIZATION mailsentry_priv_alice;
SELECT mailsentry.submit(ARRAY['ann@acme-widgets.com'], label => repeat('x', 201));
-- The error for an unknown depth echoes at most 40 characters of it.
SELECT mailsentry.submit(ARRAY['ann@acme-widgets.com'], repeat('deep', 25000));
RESET SESSION AUTHORIZATION;

BEGIN;
SET SESSION AUTHORIZATION mailsentry_priv_alice;
SELECT mailsentry.submit(ARRAY['ann@acme-widgets.com', 'al@acme-widgets.com'],
                         label => 'alice: ' || repeat('x', 193)) AS alice_job \gset
SET SESSION AUTHORIZATION mailsentry_priv_bob;
SELECT mailsentry.submit(ARRAY['bo@acme-widgets.com'], label => 'bob''s signups') AS bob_job \gset
SET SESSION AUTHORIZATION mailsentry_priv_dave;
SELECT mailsentry.submit(ARRAY['dee@acme-widgets.com'], label => 'dave''s') AS dave_job \gset
-- The owner is the session user, not a role taken with SET ROLE.
SET SESSION AUTHORIZATION mailsentry_priv_carol;
SET ROLE mailsentry_priv_alice;
SELECT mailsentry.submit(ARRAY['cy@acme-widgets.com'], label => 'carol''s') AS carol_job \gset
RESET ROLE;
SET SESSION AUTHORIZATION mailsentry_priv_alice;
SELECT count(*) AS alice_sees_carols FROM mailsentry.jobs WHERE job_id = :carol_job;
RESET SESSION AUTHORIZATION;
SELECT submitted_by, source FROM mailsentry.jobs WHERE job_id = :carol_job;
-- Two finished addresses, one of alice's and bob's.
UPDATE mailsentry.job_items SET verdict = 'valid', score = 90, done_at = now()
WHERE job_id IN (:alice_job, :bob_job) AND item = 1;
-- mailsentry.jobs: a role sees its own jobs, a member of the owner sees the
-- owner's, a superuser sees all.
SET SESSION AUTHORIZATION mailsentry_priv_alice;
SELECT submitted_by, length(source) AS label_length, state, total FROM mailsentry.jobs
WHERE job_id IN (:alice_job, :bob_job, :dave_job) ORDER BY job_id;
SET SESSION AUTHORIZATION mailsentry_priv_bob;
SELECT submitted_by, source, state, total FROM mailsentry.jobs
WHERE job_id IN (:alice_job, :bob_job, :dave_job) ORDER BY job_id;
SET SESSION AUTHORIZATION mailsentry_priv_carol;
SELECT submitted_by, state, total FROM mailsentry.jobs
WHERE job_id IN (:alice_job, :bob_job, :dave_job) ORDER BY job_id;
RESET SESSION AUTHORIZATION;
SELECT submitted_by, left(source, 20) AS label FROM mailsentry.jobs
WHERE job_id IN (:alice_job, :bob_job, :dave_job) ORDER BY job_id;
-- Errors name the job: its id, which depends on the jobs before, is left out.
CREATE FUNCTION pg_temp.try_cancel(job bigint) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN mailsentry.cancel(job)::text;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || replace(SQLERRM, job::text, 'N');
END $$;
-- The filter comes before the caller's own conditions (security_barrier): a
-- function that shows what it is given sees only the caller's rows.
CREATE FUNCTION pg_temp.peek(label text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
  RAISE NOTICE 'peek: %', left(label, 20);
  RETURN true;
END $$;
SET SESSION AUTHORIZATION mailsentry_priv_bob;
SELECT count(*) FROM mailsentry.jobs WHERE job_id IN (:alice_job, :bob_job, :dave_job) AND pg_temp.peek(source);
RESET SESSION AUTHORIZATION;
-- job_results (when granted) shows the addresses of the visible jobs only.
SET SESSION AUTHORIZATION mailsentry_priv_bob;
SELECT item, email, verdict FROM mailsentry.job_results
WHERE job_id IN (:alice_job, :bob_job, :dave_job) ORDER BY job_id, item;
SELECT count(*) FROM mailsentry.job_results WHERE pg_temp.peek(email);
SET SESSION AUTHORIZATION mailsentry_priv_carol;
SELECT item, email, verdict FROM mailsentry.job_results
WHERE job_id IN (:alice_job, :bob_job, :dave_job) ORDER BY job_id, item;
-- cancel: the owner and its members may; others get an error that does not
-- name the owner.
SET SESSION AUTHORIZATION mailsentry_priv_bob;
SELECT pg_temp.try_cancel(:alice_job) AS bob_cancels_alices;
SET SESSION AUTHORIZATION mailsentry_priv_carol;
SELECT pg_temp.try_cancel(:alice_job) AS carol_cancels_alices;
SET SESSION AUTHORIZATION mailsentry_priv_alice;
SELECT pg_temp.try_cancel(:bob_job) AS alice_cancels_bobs, pg_temp.try_cancel(:alice_job) AS alice_cancels_hers;
-- A dropped owner: the views still work, the job is shown to superusers
-- only, and a superuser may cancel it.
RESET SESSION AUTHORIZATION;
DROP OWNED BY mailsentry_priv_dave;
DROP ROLE mailsentry_priv_dave;
SET SESSION AUTHORIZATION mailsentry_priv_bob;
SELECT count(*) AS bob_sees_jobs FROM mailsentry.jobs WHERE job_id IN (:bob_job, :dave_job);
SELECT count(*) AS bob_sees_results FROM mailsentry.job_results WHERE job_id IN (:bob_job, :dave_job);
SELECT pg_temp.try_cancel(:dave_job) AS bob_cancels_daves;
RESET SESSION AUTHORIZATION;
SELECT submitted_by, state FROM mailsentry.jobs WHERE job_id = :dave_job;
SELECT pg_temp.try_cancel(:dave_job) AS superuser_cancels;
SELECT state FROM mailsentry.jobs WHERE job_id = :dave_job;
-- A label made from a long quoted table and column name (128 characters
-- each once quoted) is cut to 200.
DO $$
BEGIN
  EXECUTE format('CREATE TABLE public.%I (%I text)', repeat('"', 63), repeat('"', 63));
END $$;
SELECT mailsentry.submit(format('public.%I', repeat('"', 63))::regclass, repeat('"', 63)) AS long_job \gset
SELECT length(source) AS label_length, left(source, 10) AS label_start
FROM mailsentry.jobs WHERE job_id = :long_job;
ROLLBACK;

-- (The rollback brought dave back.)
DROP OWNED BY mailsentry_priv_alice, mailsentry_priv_bob, mailsentry_priv_carol, mailsentry_priv_dave;
DROP ROLE mailsentry_priv_alice, mailsentry_priv_bob, mailsentry_priv_carol, mailsentry_priv_dave;
