-- mailsentry 0.1 -> 0.2. A fresh install runs mailsentry--0.1.sql and then
-- this script, so an upgraded database and a new one are the same.
\echo Use "ALTER EXTENSION mailsentry UPDATE TO '0.2'" to load this file. \quit

------------------------------------------------------------------------------
-- Dead domains: the cache records which DNS or connection finding made a
-- domain undeliverable, so the verdict computed on read can name it and
-- give its level (confirmed for DNS findings, inferred for the others).
------------------------------------------------------------------------------
ALTER TABLE mailsentry.cache
  ADD COLUMN dead_domain text
    CHECK (dead_domain IN ('nxdomain', 'null_mx', 'no_address', 'off_limits', 'refuses_smtp'));
COMMENT ON COLUMN mailsentry.cache.dead_domain IS
  'Why the domain takes no mail (nxdomain, null_mx, no_address, off_limits, refuses_smtp), or NULL';

-- The weight of a domain that takes no mail is now dead_domain (default 100,
-- the invalid band); an override of the old no_mx weight carries over.
UPDATE mailsentry.weight_overrides SET name = 'dead_domain'
  WHERE name = 'no_mx'
    AND NOT EXISTS (SELECT FROM mailsentry.weight_overrides WHERE name = 'dead_domain');
DELETE FROM mailsentry.weight_overrides WHERE name = 'no_mx';

------------------------------------------------------------------------------
-- Monitoring: the worker's view of its surroundings (outbound port 25, the
-- resolver, registries behind a circuit breaker).
------------------------------------------------------------------------------
DROP VIEW mailsentry.stats;
DROP FUNCTION mailsentry.stats();
CREATE FUNCTION mailsentry.stats(
    OUT worker_state text, OUT worker_pid integer, OUT worker_starts bigint,
    OUT requests bigint, OUT cache_hits bigint, OUT completed bigint, OUT in_flight bigint, OUT queued bigint,
    OUT timeouts bigint, OUT errors bigint, OUT queue_full_waits bigint,
    OUT queue_size integer, OUT smtp_sessions_open bigint,
    OUT outbound_smtp text, OUT outbound_smtp_blocked_episodes bigint,
    OUT resolver text, OUT resolver_blind_episodes bigint,
    OUT registry_breakers_open integer, OUT late_domain_ages bigint)
  AS 'MODULE_PATHNAME', 'mailsentry_stats'
  LANGUAGE C VOLATILE;
CREATE VIEW mailsentry.stats AS SELECT * FROM mailsentry.stats();
COMMENT ON VIEW mailsentry.stats IS
  'The worker and the request queue since the server started (like pg_stat_* views)';

CREATE FUNCTION mailsentry.registry_stats(
    OUT server text, OUT protocol text, OUT lookups bigint, OUT failures bigint,
    OUT circuit_breaker_open boolean, OUT open_until timestamptz, OUT breaker_openings bigint,
    OUT updated_at timestamptz)
  RETURNS SETOF record
  AS 'MODULE_PATHNAME', 'mailsentry_registry_stats'
  LANGUAGE C VOLATILE;
CREATE VIEW mailsentry.registry_stats AS SELECT * FROM mailsentry.registry_stats();
COMMENT ON VIEW mailsentry.registry_stats IS
  'Per RDAP or WHOIS server: lookups, failures and its circuit breaker (published each second)';
GRANT SELECT ON mailsentry.stats, mailsentry.registry_stats TO PUBLIC;

------------------------------------------------------------------------------
-- Parallel plans. The verification functions read the cache as last
-- committed (so REPEATABLE READ callers see what the worker wrote since),
-- which needs a new snapshot: not possible in parallel mode, which the
-- leader of any parallel plan is in too. They are PARALLEL UNSAFE (a query
-- calling them gets no parallel plan; they are network-bound anyway).
-- cached_result() stays PARALLEL SAFE: in parallel mode it reads the cache
-- in the statement's snapshot.
------------------------------------------------------------------------------
ALTER FUNCTION @extschema@.verify_email(text, text, boolean) PARALLEL UNSAFE;
ALTER FUNCTION @extschema@.verify_email_json(text, text, boolean) PARALLEL UNSAFE;
ALTER FUNCTION @extschema@.verify_emails(text[], text, boolean) PARALLEL UNSAFE;
