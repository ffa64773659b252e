-- Dead domains are undeliverable, and only dead ones: how each DNS and
-- connection outcome maps to verdict, level and cache TTL (README table).
\pset null '(null)'
SELECT it.wait_for_worker() AS worker_running;
-- Port 25 is known to work here: a connection to a mail server succeeded.
SELECT smtp_valid FROM verify_email('alice@postfix-mail.net', refresh => true);

-- DNS proves the domain dead: invalid at once, no SMTP, level confirmed.
SELECT email, verdict, recommendation, verification_level, smtp_valid, mx_found, score, issues
FROM (VALUES ('x@no-such-domain-mail.net'), ('x@nullmx-mail.net'), ('x@nomail-mail.net'),
             ('x@noaddr-mail.net')) AS t(addr),
     LATERAL verify_email(t.addr, refresh => true) v
ORDER BY email;

-- No MX, and the domain's own address refuses port 25 while port 25 works:
-- invalid, but inferred from a connection, not proven by DNS.
SELECT verdict, verification_level, smtp_valid, issues
FROM verify_email('x@refusing-mail.net', refresh => true);

-- DNS-dead verdicts are cached for at most a day (domains get registered),
-- the inferred one for the short TTL; none is re-probed.
SELECT address, dead_domain, inconclusive, reprobe_at IS NULL AS no_reprobe,
       expires_at - checked_at AS ttl
FROM mailsentry.cache
WHERE address IN ('x@no-such-domain-mail.net', 'x@nullmx-mail.net', 'x@nomail-mail.net',
                  'x@noaddr-mail.net', 'x@refusing-mail.net')
ORDER BY address;
-- The cache serves the same verdict, computed again from the stored finding.
SELECT cached, verdict, verification_level, issues FROM verify_email('x@nullmx-mail.net');
-- A weight override applies to dead domains too.
INSERT INTO mailsentry.weight_overrides (name, points) VALUES ('dead_domain', 50);
SELECT score, verdict FROM verify_email('x@nullmx-mail.net');
DELETE FROM mailsentry.weight_overrides WHERE name = 'dead_domain';

-- Failures that may pass are never invalid, and never valid either: they
-- take the inconclusive deductions, say what failed, get the short TTL and
-- are probed again later. SERVFAIL, and an explicit MX that refuses:
SELECT email, verdict, verification_level, mx_found, smtp_valid, issues, warning
FROM (VALUES ('x@servfail-mail.net'), ('alice@refused-mail.net')) AS t(addr),
     LATERAL verify_email(t.addr, refresh => true) v
ORDER BY email;
-- A DNS server that never answers (two tries of mailsentry.dns_timeout).
SELECT verdict, verification_level, mx_found, issues, warning LIKE 'DNS lookup inconclusive:%' AS says_dns
FROM verify_email('x@silent-mail.net', refresh => true);
SELECT address, inconclusive, dead_domain, reprobe_at IS NOT NULL AS reprobe_planned,
       expires_at - checked_at AS ttl
FROM mailsentry.cache
WHERE address IN ('x@servfail-mail.net', 'alice@refused-mail.net', 'x@silent-mail.net')
ORDER BY address;

-- A verification cut short by mailsentry.verify_timeout is an estimate with
-- a warning, never 'valid'.
SET mailsentry.verify_timeout = '200ms';
SELECT verdict, verification_level, issues, warning FROM verify_email('sue@slow-mail.net', refresh => true);
RESET mailsentry.verify_timeout;

-- An address literal is at most 'caution'; a loopback one at most 'risky'
-- (a literal is never connected to).
SELECT email, score, verdict FROM (VALUES ('jane@[8.8.8.8]'), ('jane@[127.0.0.1]')) AS t(addr),
     LATERAL verify_email(t.addr) v ORDER BY email;

-- MX hosts only on loopback while private networks are off: dead (inferred),
-- and no connection is made.
SELECT count(*) AS connections_before FROM it.smtp('exists') WHERE dir = 'open' \gset
ALTER SYSTEM SET mailsentry.allow_private_networks = off;
SELECT it.reload();
SELECT verdict, verification_level, smtp_valid, issues FROM verify_email('mary.jones@exists-mail.net', refresh => true);
SELECT count(*) - :connections_before AS new_connections FROM it.smtp('exists') WHERE dir = 'open';
ALTER SYSTEM RESET mailsentry.allow_private_networks;
SELECT it.reload();

-- A resolver that cannot see the Internet says NXDOMAIN for every name, the
-- canary domains too: no domain is called dead, a bulk run marks nothing
-- invalid, and mailsentry.stats says why.
ALTER SYSTEM SET mailsentry.dns_servers = '127.0.0.55';
SELECT it.reload();
SELECT verdict, count(*) FROM verify_emails(ARRAY['x@no-such-domain-mail.net', 'y@nullmx-mail.net',
       'dora@postfix-mail.net', 'eric@postfix-mail.net', 'z@nomail-mail.net'], refresh => true)
GROUP BY verdict ORDER BY verdict;
SELECT issues, warning LIKE '%resolver cannot see the Internet%' AS says_why
FROM verify_email('x@no-such-domain-mail.net', refresh => true);
SELECT pg_sleep(1.2);
SELECT resolver, resolver_blind_episodes FROM mailsentry.stats;
ALTER SYSTEM RESET mailsentry.dns_servers;
SELECT it.reload();
SELECT verdict FROM verify_email('x@no-such-domain-mail.net', refresh => true);
SELECT pg_sleep(1.2);
SELECT resolver FROM mailsentry.stats;
