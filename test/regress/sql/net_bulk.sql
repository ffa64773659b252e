-- verify_emails(): many addresses in one call.
\pset null '(null)'
SELECT it.wait_for_worker() AS worker_running;
SELECT mailsentry.purge_cache() >= 0 AS emptied;

-- One row per distinct non-NULL element; spellings of one mailbox are
-- verified once but each gets its row. Network-free verdicts and cache hits
-- come first, in input order; the rest as they finish.
SELECT smtp_valid FROM verify_email('alice@postfix-mail.net');
SELECT count(*) AS rcpts_before FROM it.smtp('exists') WHERE dir = 'C' AND line ILIKE 'RCPT TO:%' \gset
-- (Rows after the first three come in completion order: sorted here.)
SELECT CASE WHEN n <= 3 THEN n END AS position, email, verdict, smtp_valid, cached
FROM (SELECT row_number() OVER () AS n, v.*
      FROM verify_emails(ARRAY['not an address', 'alice@postfix-mail.net', NULL,
                               'ed@exists-mail.net', 'Ed@exists-mail.net', 'ed@EXISTS-MAIL.NET',
                               'zed@exists-mail.net', 'not an address', 'bob@']) v) rows
ORDER BY CASE WHEN n <= 3 THEN n ELSE 4 END, email COLLATE "C";
-- ed@exists-mail.net and ed@EXISTS-MAIL.NET are one mailbox: three RCPTs.
SELECT count(*) - :rcpts_before AS rcpts FROM it.smtp('exists') WHERE dir = 'C' AND line ILIKE 'RCPT TO:%';
-- Empty and NULL input, a bad depth.
SELECT count(*) FROM verify_emails('{}');
SELECT count(*) FROM verify_emails(ARRAY[NULL, NULL]::text[]);
SELECT count(*) FROM verify_emails(NULL);
SELECT count(*) FROM verify_emails(ARRAY['a@b.org'], 'deep');

-- The catch-all probe is done once per domain, and the addresses of a
-- domain share SMTP transactions (one MAIL FROM for several RCPTs).
SELECT count(*) AS catchall_mail_before FROM it.smtp('catchall') WHERE dir = 'C' AND line ILIKE 'MAIL FROM:%' \gset
SELECT count(*) AS rows, count(*) FILTER (WHERE catch_all) AS catch_all
FROM verify_emails(ARRAY(SELECT 'bulk' || i || '@bulkcatch-mail.net' FROM generate_series(1, 12) i));
SELECT count(*) FILTER (WHERE line ~* '^RCPT TO:<bulk[0-9]+@bulkcatch-mail.net>') AS address_rcpts,
       count(*) FILTER (WHERE line ~* '^RCPT TO:<[a-z0-9]{24}@bulkcatch-mail.net>') AS catch_all_probes
FROM it.smtp('catchall') WHERE dir = 'C';
SELECT count(*) FILTER (WHERE line ILIKE 'MAIL FROM:%') - :catchall_mail_before < 12 AS fewer_transactions_than_addresses
FROM it.smtp('catchall') WHERE dir = 'C';
SELECT domain, catch_all FROM mailsentry.domain_facts WHERE domain = 'bulkcatch-mail.net';

-- Every verdict is cached; a second call is answered from the cache alone.
SELECT count(*) FILTER (WHERE cached) AS cached, count(*) AS rows
FROM verify_emails(ARRAY(SELECT 'bulk' || i || '@bulkcatch-mail.net' FROM generate_series(1, 12) i));

-- A cancel ends the call and keeps what the worker reached: the fast
-- address is cached, and the slow one is too once the worker finished it.
SET statement_timeout = '1s';
SELECT count(*) FROM verify_emails(ARRAY['carl@postfix-mail.net', 'sue@slow-mail.net'], refresh => true);
RESET statement_timeout;
SELECT address FROM mailsentry.cache WHERE address = 'carl@postfix-mail.net';
DO $$
BEGIN
  FOR attempt IN 1..150 LOOP
    EXIT WHEN EXISTS (SELECT FROM mailsentry.cache WHERE address = 'sue@slow-mail.net');
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SELECT address, smtp_outcome FROM mailsentry.cache WHERE address = 'sue@slow-mail.net';
