-- email_check_offline: every network-free check and the score.
\pset null '(null)'

-- A plain business address: nothing costs points, but it is only an estimate.
SELECT email, normalized, score, verdict, recommendation, verification_level,
       verification_depth, issues, syntax_valid, is_business, is_free, is_disposable,
       is_role_based, has_typo, is_gibberish, is_potential_trap, is_toxic
FROM email_check_offline('maria.garcia@acme-widgets.com');

-- Network fields stay NULL offline.
SELECT mx_found, mx_records, mx_provider, smtp_valid, catch_all, mx_host, greylisted,
       catch_all_confidence, smtp_code, smtp_message, domain_created, domain_age_days,
       domain_risk_flag, cached
FROM email_check_offline('maria.garcia@acme-widgets.com');

-- One row per rule of the score model.
SELECT t.addr, score, verdict, issues
FROM (VALUES
  ('maria.garcia@acme-widgets.com'),   -- nothing wrong
  ('not-an-address'),              -- invalid syntax: 0
  ('jane@gmial.com'),              -- domain typo: 0
  ('noreply@acme-widgets.com'),    -- system address: 0
  ('ab@gmail.com'),                -- breaks Gmail's published rules: 0
  ('sales@acme-widgets.com'),      -- role address
  ('jane@mailinator.com'),         -- disposable
  ('mariagarcia+promo@gmail.com'), -- free provider with +tag
  ('m.a.r.i.a.garcia@gmail.com'),  -- free provider with 3+ dots
  ('qwertyuiop@acme-widgets.com'), -- keyboard walk
  ('xkqzjvwp@acme-widgets.com'),   -- random characters
  ('spamtrap@acme-widgets.com'),   -- trap pattern
  ('jane@example.com'),            -- reserved domain
  ('test@acme-widgets.com'),       -- test account
  ('jane@acme.notatld')            -- unknown top-level domain
) AS t(addr), LATERAL email_check_offline(t.addr)
ORDER BY score DESC, t.addr;

-- Verdict and recommendation follow the score bands 90 / 60 / 30.
SELECT DISTINCT verdict, recommendation
FROM (VALUES ('maria.garcia@acme-widgets.com'), ('sales@acme-widgets.com'),
             ('mariagarcia+promo@gmail.com'), ('not-an-address')) AS t(addr),
     LATERAL email_check_offline(t.addr)
ORDER BY verdict;

-- The result fields of the checks.
SELECT t.addr, plus_alias, is_free, provider_name, is_role_based, role_type,
       gibberish_pattern, is_potential_trap, trap_type, abuse_type, has_typo, suggestion
FROM (VALUES ('maria.garcia+news@gmail.com'), ('info@acme-widgets.com'),
             ('asdfghjkl@acme-widgets.com'), ('spamtrap@acme-widgets.com'),
             ('jane@gmial.com'), ('john.doe@acme-widgets.com')) AS t(addr),
     LATERAL email_check_offline(t.addr);

-- An IP address literal is valid syntax, flagged in the warning.
SELECT syntax_valid, warning FROM email_check_offline('jane@[192.0.2.1]');

SELECT email_check_offline(NULL) IS NULL AS null_gives_null;
-- response_time_ms is measured, checked_at is now.
SELECT response_time_ms >= 0 AS timed, checked_at <= now() + interval '1 minute' AS stamped
FROM email_check_offline('jane@acme-widgets.com');
