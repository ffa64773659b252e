-- Timeouts: the progressive schedule, a tarpit, and checks running concurrently.
\pset null '(null)'
SELECT it.wait_for_worker() AS worker_running;

-- A tarpit (the banner never comes): three attempts on the default schedule
-- 1.5 s, 2.5 s, 3.5 s, read from the server's own connection timestamps.
SHOW mailsentry.smtp_timeouts;
SELECT smtp_valid, verification_level, score, warning,
       response_time_ms BETWEEN 7000 AND 9500 AS took_the_whole_schedule
FROM verify_email('tom@tarpit-mail.net');
WITH opens AS (
  SELECT t, t - lag(t) OVER (ORDER BY t) AS gap FROM it.smtp('tarpit') WHERE dir = 'open')
SELECT count(*) AS connections,
       bool_and(gap IS NULL OR gap BETWEEN 1.3 AND 1.8
                OR gap BETWEEN 2.3 AND 2.8) AS gaps_follow_schedule
FROM opens;

-- A session's own schedule travels with its requests.
SET mailsentry.smtp_timeouts = '200, 300';
SELECT smtp_valid, response_time_ms < 1500 AS quick FROM verify_email('tim@tarpit-mail.net');
RESET mailsentry.smtp_timeouts;
SET mailsentry.smtp_timeouts = 'soon';

-- SMTP, RDAP and the DNS blocklist of slow-mail.net each take about 3 s:
-- together they finish in about 3 s, not 9.
SET mailsentry.smtp_timeouts = '5000';
SELECT smtp_valid, domain_age_days > 0 AS age_known, is_toxic,
       response_time_ms BETWEEN 2800 AND 5000 AS concurrent
FROM verify_email('sue@slow-mail.net');
