-- Catch-all detection, remembered per domain; greylisting.
\pset null '(null)'
SELECT it.wait_for_worker() AS worker_running;

SELECT email, smtp_valid, catch_all, catch_all_confidence, verification_level, score, issues
FROM verify_email('cathy.jones@catchall-mail.net');
-- The domain's answer is remembered: the second address needs one RCPT.
SELECT catch_all, catch_all_confidence < 50 AS random_local_part_less_likely, score < 90 AS costs_more
FROM verify_email('xkqzjvwpt@catchall-mail.net');
SELECT count(*) FILTER (WHERE line ILIKE 'RCPT TO:%') AS rcpts FROM it.smtp('catchall');

-- Greylisting: standard depth says inconclusive ...
SELECT smtp_valid, greylisted, verification_level, score, issues
FROM verify_email('gary@greylist-mail.net');
-- ... extended depth re-probes after mailsentry.greylist_retry_delay.
SET mailsentry.greylist_retry_delay = '400ms';
SELECT smtp_valid, greylisted, verification_level, verification_depth
FROM verify_email('gina@greylist-mail.net', 'extended');
SELECT round((max(t) FILTER (WHERE line ILIKE 'RCPT TO:<gina%')
            - min(t) FILTER (WHERE line ILIKE 'RCPT TO:<gina%'))::numeric, 1) >= 0.4 AS waited
FROM it.smtp('greylist');
SELECT * FROM verify_email('gina@greylist-mail.net', 'deep');
