-- Domain age never holds a verdict back: a registry slower than the other
-- checks (plus mailsentry.domain_age_grace) is not waited for; the date the
-- worker gets later goes to mailsentry.domains, to the domain's cache rows,
-- and to the verdicts and counts of a running job.
\pset null '(null)'
SELECT it.wait_for_worker() AS worker_running;
SHOW mailsentry.domain_age_grace;

-- The registry answers for lateage-mail.net after 1.5 s (10 days old).
-- Its dates are UTC dates (the suite runs in PST8PDT: compare in UTC).
SELECT verdict, smtp_valid, domain_created, response_time_ms < 1200 AS not_held_back,
       warning LIKE '%registration date pending%' AS says_pending
FROM verify_email('lou@lateage-mail.net');
SELECT pg_sleep(2);
SELECT domain_created = (now() AT TIME ZONE 'UTC')::date - 10 AS date_written,
       'registration date pending' <> ALL (warnings) AS pending_gone
FROM mailsentry.cache WHERE address = 'lou@lateage-mail.net';
SELECT domain_created = (now() AT TIME ZONE 'UTC')::date - 10 AS date_written
FROM mailsentry.domains WHERE domain = 'lateage-mail.net';
-- The cached verdict now counts the young domain.
SELECT cached, verdict, domain_age_days, domain_risk_flag, issues
FROM verify_email('lou@lateage-mail.net');

-- A job: joy@latejob-mail.net is answered at once without its date, while
-- the tarpit keeps the job running (7.5 s); when the date comes, the job's
-- count moves the address from valid to caution.
SELECT mailsentry.submit(ARRAY['joy@latejob-mail.net', 'tom@tarpit-mail.net'], label => 'late date') AS job \gset
SELECT pg_sleep(3);
SELECT state, done, valid, caution FROM mailsentry.jobs WHERE job_id = :job;
SELECT it.wait_for_job(:job);
SELECT email, verdict FROM mailsentry.job_results WHERE job_id = :job ORDER BY item;
SELECT valid, caution FROM mailsentry.jobs WHERE job_id = :job;
SELECT late_domain_ages >= 2 AS late_dates_counted FROM mailsentry.stats;
