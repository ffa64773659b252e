-- The network halves of the other checks: domain age, DNS blocklist,
-- anti-probe providers, typo domains with mail servers of their own.
\pset null '(null)'
SELECT it.wait_for_worker() AS worker_running;

SELECT email, domain_created = (now() AT TIME ZONE 'UTC')::date - 10 AS ten_days_old, domain_age_days,
       domain_risk_flag, score, issues
FROM verify_email('yan@young-mail.net');
SELECT domain_created, domain_risk_flag, score FROM verify_email('olga@old-mail.net');

SELECT is_toxic, score, warning, issues FROM verify_email('lee@listed-mail.net');

-- Google consumer mail refuses probes: not probed, verdict estimated, no deduction.
SELECT smtp_valid, verification_level, mx_provider, score, warning
FROM verify_email('maria.garcia@gmail.com');
SELECT count(*) AS connections_to_gmail FROM it.smtp('gmail');

-- A likely typo whose domain has mail servers of its own costs 15, not everything.
SELECT has_typo, suggestion, mx_found, smtp_valid, score, issues
FROM verify_email('jane@gmial.com');

-- Fail-fast cases answer without any network work.
SELECT email, score, verification_level, mx_found, response_time_ms < 50 AS instant
FROM (VALUES ('not an address'), ('noreply@postfix-mail.net'), ('ab@gmail.com')) t(addr),
     LATERAL verify_email(t.addr)
ORDER BY email;
