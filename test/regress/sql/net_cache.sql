-- The verdict cache: written by the worker in its own transactions, read
-- without network work, verdicts computed from the facts when read.
\pset null '(null)'
SELECT it.wait_for_worker() AS worker_running;
SELECT mailsentry.purge_cache() >= 0 AS emptied;

-- A first call asks the servers; the second is served from the cache.
SELECT smtp_valid, cached FROM verify_email('ed@exists-mail.net');
SELECT count(*) AS rcpts_before FROM it.smtp('exists') WHERE line ILIKE 'RCPT TO:<ed@%' \gset
SELECT smtp_valid, cached, verdict, checked_at < now() AS checked_earlier
FROM verify_email('ed@exists-mail.net');
SELECT count(*) - :rcpts_before AS new_rcpts FROM it.smtp('exists') WHERE line ILIKE 'RCPT TO:<ed@%';
-- Keyed by the normalized address; cache hits are counted.
SELECT cached FROM verify_email('ed@EXISTS-MAIL.NET');
SELECT address, domain, depth, smtp_outcome, inconclusive, expires_at - checked_at AS ttl
FROM mailsentry.cache WHERE address = 'ed@exists-mail.net';
SELECT cache_hits >= 2 AS hits_counted FROM mailsentry.stats;
-- refresh => true asks again.
SELECT smtp_valid, cached FROM verify_email('ed@exists-mail.net', refresh => true);
SELECT count(*) - :rcpts_before AS new_rcpts FROM it.smtp('exists') WHERE line ILIKE 'RCPT TO:<ed@%';
-- A cached 'standard' verdict serves 'quick' but not 'extended'.
SELECT cached FROM verify_email('ed@exists-mail.net', 'quick');
SELECT cached, verification_depth FROM verify_email('ed@exists-mail.net', 'extended');
SELECT depth FROM mailsentry.cache WHERE address = 'ed@exists-mail.net';

-- The verdict is computed when read: a list change applies to cached facts.
INSERT INTO mailsentry.list_overrides (list_name, entry) VALUES ('disposable', 'exists-mail.net');
SELECT cached, is_disposable, verdict FROM verify_email('ed@exists-mail.net');
DELETE FROM mailsentry.list_overrides WHERE entry = 'exists-mail.net';
SELECT cached, is_disposable, verdict FROM verify_email('ed@exists-mail.net');

-- Verdicts survive the caller's ROLLBACK: the worker committed them.
BEGIN;
SELECT smtp_valid FROM verify_email('eve.smith@exists-mail.net');
ROLLBACK;
SELECT smtp_outcome FROM mailsentry.cache WHERE address = 'eve.smith@exists-mail.net';
-- Read-only transactions verify (and the verdict is still cached).
BEGIN READ ONLY;
SELECT smtp_valid, cached FROM verify_email('nobody@exists-mail.net');
SELECT smtp_valid, cached FROM verify_email('nobody@exists-mail.net');
COMMIT;
-- Inside REPEATABLE READ the cache is read as last committed, not as of the snapshot.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM mailsentry.cache WHERE address = 'nobody2@exists-mail.net';
SELECT cached FROM verify_email('nobody2@exists-mail.net');
SELECT cached FROM verify_email('nobody2@exists-mail.net');
COMMIT;

-- Inconclusive answers are kept for less time (mailsentry.cache_ttl_inconclusive).
SELECT smtp_valid, greylisted FROM verify_email('gwen@greylist-mail.net');
SELECT inconclusive, greylisted, expires_at - checked_at AS ttl, reprobe_at IS NOT NULL AS reprobe_planned
FROM mailsentry.cache WHERE address = 'gwen@greylist-mail.net';
-- The worker asks again in the background (mailsentry.reprobe_delay, made
-- due now here) and upgrades the cached verdict when the server answers.
UPDATE mailsentry.cache SET reprobe_at = now() WHERE address = 'gwen@greylist-mail.net';
DO $$
BEGIN
  FOR attempt IN 1..100 LOOP
    EXIT WHEN EXISTS (SELECT FROM mailsentry.cache
                      WHERE address = 'gwen@greylist-mail.net' AND NOT inconclusive);
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SELECT smtp_outcome, greylisted, inconclusive, reprobes, reprobe_at, expires_at - checked_at AS ttl
FROM mailsentry.cache WHERE address = 'gwen@greylist-mail.net';
SELECT smtp_valid, greylisted, cached FROM verify_email('gwen@greylist-mail.net');
SELECT count(*) AS gwen_rcpts FROM it.smtp('greylist') WHERE line ILIKE 'RCPT TO:<gwen@%';

-- An expired entry is not served; the worker purges expired rows in batches.
UPDATE mailsentry.cache SET expires_at = now() - interval '1 second'
WHERE address = 'eve.smith@exists-mail.net';
SELECT cached FROM verify_email('eve.smith@exists-mail.net');
UPDATE mailsentry.cache SET expires_at = now() - interval '1 second'
WHERE address = 'nobody@exists-mail.net';
SELECT pg_sleep(2.5);
SELECT count(*) AS expired_rows_left FROM mailsentry.cache WHERE expires_at <= now();

-- cached_result() and the verdicts view: the verdict from the cache alone.
SELECT cached, smtp_valid, verdict FROM mailsentry.cached_result('ed@exists-mail.net');
SELECT cached, smtp_valid, verification_level FROM mailsentry.cached_result('never-seen@exists-mail.net');
SELECT address, verdict, smtp_valid FROM mailsentry.verdicts
WHERE address IN ('ed@exists-mail.net', 'eve.smith@exists-mail.net') ORDER BY 1;

-- forget() and purge_cache(); the domain part is case-insensitive.
SELECT mailsentry.forget('ed@EXISTS-MAIL.NET') AS forgotten;
SELECT mailsentry.forget('ed@exists-mail.net') AS forgotten_again;
SELECT count(*) FROM mailsentry.cache WHERE address = 'ed@exists-mail.net';
SELECT count(*) AS fresh_rows FROM mailsentry.cache WHERE expires_at > now() \gset
UPDATE mailsentry.cache SET expires_at = now() - interval '1 second'
WHERE address = 'eve.smith@exists-mail.net';
SELECT mailsentry.purge_cache(expired_only => true) <= 1 AS purged_expired;
SELECT count(*) FILTER (WHERE address = 'eve.smith@exists-mail.net') AS eve_left,
       count(*) = :fresh_rows - 1 AS others_kept
FROM mailsentry.cache;
SELECT mailsentry.purge_cache() > 0 AS purged_all;
SELECT count(*) AS left_over FROM mailsentry.cache;

-- Domain facts are persisted and visible.
SELECT domain, mx_found, mx_records, catch_all, mx_fresh FROM mailsentry.domain_facts
WHERE domain IN ('exists-mail.net', 'greylist-mail.net') ORDER BY 1;
SELECT pg_sleep(10.5);
SELECT mx_host, probes > 0 AS probed FROM mailsentry.mx_health
WHERE mx_host = 'mx.exists-mail.net';

-- The cache holds personal data: not readable by PUBLIC, even for a role
-- that may verify (it reads its own verdicts through verify_email).
CREATE ROLE mailsentry_reader;
GRANT EXECUTE ON FUNCTION verify_email(text, text, boolean) TO mailsentry_reader;
SET ROLE mailsentry_reader;
SELECT cached FROM verify_email('ed@exists-mail.net');
SELECT cached FROM verify_email('ed@exists-mail.net');
SELECT count(*) FROM mailsentry.cache;
SELECT count(*) FROM mailsentry.verdicts;
SELECT cached FROM mailsentry.cached_result('ed@exists-mail.net');
SELECT mailsentry.forget('ed@exists-mail.net');
SELECT mailsentry.purge_cache();
SELECT count(*) > 0 AS domains_visible FROM mailsentry.domain_facts;
RESET ROLE;
DROP OWNED BY mailsentry_reader;
DROP ROLE mailsentry_reader;

-- A domain's facts row is written when the facts change, not after every
-- answer (in bulk that was hundreds of rewrites of the same row a second).
SELECT verdict FROM verify_email('ed@exists-mail.net', refresh => true);
SELECT updated_at AS domain_written FROM mailsentry.domains WHERE domain = 'exists-mail.net' \gset
SELECT pg_sleep(0.2);
SELECT verdict FROM verify_email('eve.smith@exists-mail.net', refresh => true);
SELECT updated_at = :'domain_written' AS row_left_as_it_was
FROM mailsentry.domains WHERE domain = 'exists-mail.net';
