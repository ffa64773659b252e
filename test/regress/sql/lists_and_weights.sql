-- User overrides of the built-in lists and of the score weights.
\pset null '(null)'
-- Constraint violations without the DETAIL line (it shows the row's timestamp).
\set VERBOSITY terse

SELECT * FROM mailsentry.list_names() ORDER BY 1;
SELECT count(*) > 8000 AS many_disposable FROM mailsentry.builtin_list('disposable');
SELECT * FROM mailsentry.builtin_list('no_such_list');

-- Add a disposable domain: effective at the next call.
SELECT is_disposable FROM email_check_offline('jane@throwaway-acme.com');
INSERT INTO mailsentry.list_overrides (list_name, entry, reason)
  VALUES ('disposable', 'throwaway-acme.com', 'seen in signup abuse');
SELECT is_disposable, score FROM email_check_offline('jane@throwaway-acme.com');
-- Parent-domain matching applies to added entries too.
SELECT is_disposable FROM email_check_offline('jane@mx.throwaway-acme.com');

-- Remove a false positive from a built-in list.
SELECT is_disposable FROM email_check_offline('jane@mailinator.com');
INSERT INTO mailsentry.list_overrides (list_name, entry, action, reason)
  VALUES ('disposable', 'mailinator.com', 'remove', 'our QA team uses it');
SELECT is_disposable FROM email_check_offline('jane@mailinator.com');

-- A new role address, and a built-in one dropped.
INSERT INTO mailsentry.list_overrides (list_name, entry, detail)
  VALUES ('roles', 'orders', 'role:sales');
SELECT is_role_based, role_type FROM email_check_offline('orders@acme-widgets.com');
INSERT INTO mailsentry.list_overrides (list_name, entry, detail) VALUES ('roles', 'bad', 'vip');

-- A new popular domain becomes a typo target, also for verify_email, which
-- remembers each domain's typo check until the lists change (a system
-- address: no network needed).
SELECT email_suggest('jane@acme-widgest.com');
SELECT suggestion FROM verify_email('noreply@acme-widgest.com');
INSERT INTO mailsentry.list_overrides (list_name, entry) VALUES ('popular_domains', 'acme-widgets.com');
SELECT email_suggest('jane@acme-widgest.com');
SELECT suggestion FROM verify_email('noreply@acme-widgest.com');

-- Bad overrides are refused.
INSERT INTO mailsentry.list_overrides (list_name, entry) VALUES ('no_such_list', 'x.com');
INSERT INTO mailsentry.list_overrides (list_name, entry) VALUES ('disposable', 'Upper.COM');
INSERT INTO mailsentry.list_overrides (list_name, entry, action) VALUES ('disposable', 'x.com', 'drop');

-- Weights: the role deduction made harsher, then restored.
SELECT score, verdict FROM email_check_offline('sales@acme-widgets.com');
INSERT INTO mailsentry.weight_overrides (name, points) VALUES ('role_address', 80);
SELECT score, verdict FROM email_check_offline('sales@acme-widgets.com');
SELECT name, default_points, points, overridden FROM mailsentry.score_weights
WHERE name IN ('role_address', 'disposable') ORDER BY name;
INSERT INTO mailsentry.weight_overrides (name, points) VALUES ('no_such_weight', 10);
INSERT INTO mailsentry.weight_overrides (name, points) VALUES ('disposable', 101);
DELETE FROM mailsentry.weight_overrides;
SELECT score, verdict FROM email_check_offline('sales@acme-widgets.com');

-- An override made in a transaction that rolls back leaves no trace.
BEGIN;
INSERT INTO mailsentry.list_overrides (list_name, entry) VALUES ('disposable', 'acme-widgets.com');
SELECT is_disposable FROM email_check_offline('jane@acme-widgets.com');
ROLLBACK;
SELECT is_disposable FROM email_check_offline('jane@acme-widgets.com');

-- TRUNCATE also reaches the cached lists.
TRUNCATE mailsentry.list_overrides;
SELECT is_disposable FROM email_check_offline('jane@throwaway-acme.com');
SELECT is_disposable FROM email_check_offline('jane@mailinator.com');

-- The override tables are kept by pg_dump.
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS cfg(oid)
JOIN pg_class c ON c.oid = cfg.oid WHERE e.extname = 'mailsentry' ORDER BY 1;
