-- SMTP verification against a real Postfix and scripted servers.
\pset null '(null)'
SELECT it.wait_for_worker() AS worker_running;

-- Mailbox exists / does not exist (Postfix with virtual mailboxes).
SELECT email, score, verdict, verification_level, smtp_valid, smtp_code, mx_found, mx_records,
       mx_host, issues
FROM verify_email('alice@postfix-mail.net');
SELECT email, score, verdict, verification_level, smtp_valid, smtp_code, issues
FROM verify_email('zed@postfix-mail.net');

-- Consecutive recipients at one MX share one session (scripted server); the
-- catch-all probe is made once for the domain.
SELECT count(*) FILTER (WHERE smtp_valid) AS accepted, count(*) AS probed
FROM generate_series(1, 10) i,
     LATERAL verify_email(CASE i % 2 WHEN 0 THEN 'ed' ELSE 'eve.smith' END || '@exists-mail.net', refresh => true) v;
SELECT count(*) FILTER (WHERE dir = 'open') AS connections,
       count(*) FILTER (WHERE dir = 'C' AND line ILIKE 'RCPT TO:%') AS rcpts
FROM it.smtp('exists');

-- A dead first MX (connection refused) and a live second one.
SELECT smtp_valid, mx_records, mx_host FROM verify_email('alice@twomx-mail.net');

-- Multi-line replies, a slow banner within the timeout, SMTPUTF8.
SELECT smtp_valid, smtp_code FROM verify_email('ann@multiline-mail.net');
SELECT smtp_valid FROM verify_email('sam@slowbanner-mail.net');
SELECT smtp_valid, verification_level FROM verify_email('josé@utf8-mail.net');
SELECT bool_or(line LIKE 'MAIL FROM:%SMTPUTF8%') AS smtputf8_used FROM it.smtp('utf8');

-- Answers that say nothing about the mailbox are inconclusive (NULL, -30).
SELECT email, score, smtp_valid, verification_level, smtp_code, warning
FROM (VALUES ('pat@policy-mail.net'), ('bo@busy-mail.net'), ('mo@malformed-mail.net'),
             ('ray@refused-mail.net')) AS t(addr),
     LATERAL verify_email(t.addr, refresh => true) v
ORDER BY email;

-- STARTTLS: opportunistic by default; required refuses servers without it.
SELECT smtp_valid FROM verify_email('tia@tls-mail.net');
SELECT bool_or(dir = 'tls') AS tls_negotiated FROM it.smtp('tls');
ALTER SYSTEM SET mailsentry.starttls = 'required';
SELECT it.reload();
SELECT smtp_valid, warning FROM verify_email('nat@notls-mail.net');
ALTER SYSTEM RESET mailsentry.starttls;
SELECT it.reload();

-- The reverse-path and HELO name come from the settings.
SELECT bool_and(line = 'MAIL FROM:<probe@mailsentry-test.org>') AS mail_from,
       (SELECT bool_and(line = 'EHLO mailsentry.test') FROM it.smtp('exists')
        WHERE line LIKE 'EHLO%') AS helo
FROM it.smtp('exists') WHERE line LIKE 'MAIL FROM%';
