-- Without shared_preload_libraries the network-free checks work and the
-- network functions fail with a clear ERROR and a HINT.
CREATE EXTENSION mailsentry;
SELECT score, verdict FROM email_check_offline('maria.garcia@acme-widgets.com');
SELECT * FROM verify_email('maria.garcia@acme-widgets.com');
SELECT verify_email_json('maria.garcia@acme-widgets.com');
-- No worker setting exists, so CREATE EXTENSION is allowed in any database.
SELECT mailsentry.worker_database() IS NULL AS no_worker_database;
