-- A C++ exception inside an entry point becomes an ERROR with a SQLSTATE,
-- and the backend (and server) stay up.
\set VERBOSITY default
\set SHOW_CONTEXT never

SET mailsentry.debug_fail_point = 'email_check_offline';
SELECT score FROM email_check_offline('jane@acme-widgets.com');
\echo :LAST_ERROR_SQLSTATE
-- Other entry points are unaffected.
SELECT email_syntax_valid('jane@acme-widgets.com');

SET mailsentry.debug_fail_point = 'email_syntax_valid:bad_alloc';
SELECT email_syntax_valid('jane@acme-widgets.com');
\echo :LAST_ERROR_SQLSTATE

SET mailsentry.debug_fail_point = 'email_suggest';
SELECT email_suggest('jane@gmial.com');
\echo :LAST_ERROR_SQLSTATE

SET mailsentry.debug_fail_point = 'email_normalize';
SELECT email_normalize('jane@acme-widgets.com');
\echo :LAST_ERROR_SQLSTATE

-- After the errors the same backend works again.
RESET mailsentry.debug_fail_point;
SELECT score, verdict FROM email_check_offline('maria.garcia@acme-widgets.com');
SELECT pg_backend_pid() = pg_backend_pid() AS same_backend_alive;

-- Only a superuser may set the fail point.
CREATE ROLE mailsentry_plain_user;
SET ROLE mailsentry_plain_user;
SET mailsentry.debug_fail_point = 'email_check_offline';
RESET ROLE;
DROP ROLE mailsentry_plain_user;
