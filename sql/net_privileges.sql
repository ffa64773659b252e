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
