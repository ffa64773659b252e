-- Reaching the network is a privilege; the safety net against internal scans.
\pset null '(null)'
SELECT it.wait_for_worker() AS worker_running;

CREATE ROLE mailsentry_app;
SET ROLE mailsentry_app;
SELECT verify_email('alice@postfix-mail.net');
SELECT score FROM email_check_offline('alice@postfix-mail.net');
RESET ROLE;
GRANT EXECUTE ON FUNCTION verify_email(text, text, boolean), verify_email_json(text, text, boolean) TO mailsentry_app;
SET ROLE mailsentry_app;
SELECT smtp_valid FROM verify_email('alice@postfix-mail.net');
RESET ROLE;
-- Only a superuser can lift the private-network guard.
SET ROLE mailsentry_app;
ALTER SYSTEM SET mailsentry.allow_private_networks = off;
RESET ROLE;
DROP OWNED BY mailsentry_app;
DROP ROLE mailsentry_app;

-- By default the worker refuses loopback and private addresses: no connection
-- is made, the answer is inconclusive and says why.
SELECT count(*) AS connections_before FROM it.smtp('exists') WHERE dir = 'open' \gset
ALTER SYSTEM SET mailsentry.allow_private_networks = 'off';
SELECT it.reload();
SELECT smtp_valid, verification_level, warning FROM verify_email('eve.smith@exists-mail.net', refresh => true);
SELECT count(*) - :connections_before AS new_connections FROM it.smtp('exists') WHERE dir = 'open';
ALTER SYSTEM RESET mailsentry.allow_private_networks;
SELECT it.reload();

-- No scripted server ever saw DATA.
SELECT count(*) AS data_commands
FROM (VALUES ('exists'), ('catchall'), ('greylist'), ('tarpit'), ('busy'), ('policy'), ('utf8'),
             ('multiline'), ('malformed'), ('slowbanner'), ('tls'), ('notls'), ('slow'), ('gmail')) s(name),
     LATERAL it.smtp(s.name)
WHERE dir = 'C' AND upper(line) LIKE 'DATA%';

-- Monitoring: the queue and the worker, and per MX (published each second).
SELECT pg_sleep(1.2);
SELECT worker_state, worker_pid IS NOT NULL AS has_pid, requests > 0 AS served,
       completed > 0 AS answered, in_flight, queued, queue_size
FROM mailsentry.stats;
SELECT mx_host, probes > 0 AS probed, circuit_breaker_open
FROM mailsentry.mx_stats WHERE mx_host = 'mx.postfix-mail.net';

-- Any role may SET mailsentry.verify_timeout, but no call waits longer than
-- mailsentry.max_verify_timeout: at slow-mail.net (3 s per SMTP reply) the
-- calls below end after 500 ms with an estimate. The SMTP timeouts are the
-- superuser's: set here, they apply to the role's calls.
CREATE ROLE mailsentry_waiter;
GRANT EXECUTE ON FUNCTION verify_email(text, text, boolean), verify_emails(text[], text, boolean)
  TO mailsentry_waiter;
ALTER SYSTEM SET mailsentry.max_verify_timeout = '500ms';
SELECT it.reload();
SET mailsentry.smtp_timeouts = '5000';
CREATE TEMP TABLE capped_calls AS SELECT clock_timestamp() AS started;
SET ROLE mailsentry_waiter;
SET mailsentry.verify_timeout = '10min';
SELECT clock_timestamp() AS started \gset
SELECT verification_level, warning LIKE '%did not finish within mailsentry.verify_timeout%' AS cut_short
FROM verify_email('sue@slow-mail.net', refresh => true);
SELECT clock_timestamp() - :'started'::timestamptz < interval '2 s' AS capped;
SELECT clock_timestamp() AS started \gset
SELECT email, verification_level, warning LIKE '%did not finish within mailsentry.verify_timeout%' AS cut_short
FROM verify_emails(ARRAY['ann@slow-mail.net'], refresh => true);
SELECT clock_timestamp() - :'started'::timestamptz < interval '2 s' AS capped;
RESET mailsentry.verify_timeout;
RESET ROLE;
RESET mailsentry.smtp_timeouts;
ALTER SYSTEM RESET mailsentry.max_verify_timeout;
SELECT it.reload();
DROP OWNED BY mailsentry_waiter;
DROP ROLE mailsentry_waiter;
-- The worker finishes both (and caches them) before the next test uses the server.
DO $$
BEGIN
  FOR attempt IN 1..250 LOOP
    EXIT WHEN (SELECT count(*) FROM mailsentry.cache
               WHERE address IN ('sue@slow-mail.net', 'ann@slow-mail.net')
                 AND checked_at > (SELECT started FROM capped_calls)) = 2;
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SELECT address, smtp_outcome FROM mailsentry.cache
WHERE address IN ('sue@slow-mail.net', 'ann@slow-mail.net') ORDER BY address;
