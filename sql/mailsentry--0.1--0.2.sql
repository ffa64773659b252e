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

------------------------------------------------------------------------------
-- Least privilege for jobs. A job belongs to the login role that submitted
-- it (session_user, as submit() records it); its label, progress and
-- addresses are shown to that role, to its members and to superusers only.
-- The owner may have been dropped, and pg_has_role() raises for the name of
-- a role that no longer exists: the checks go by OID (NULL, so no
-- membership, for a dropped role), which cannot fail whatever the order in
-- which the planner evaluates them. security_barrier: a caller's own
-- functions in WHERE see only the rows the filter lets through.
------------------------------------------------------------------------------
CREATE OR REPLACE VIEW mailsentry.jobs WITH (security_barrier) AS
  SELECT j.job_id, j.submitted_by, j.submitted_at, j.source, j.depth, j.state, j.total, j.done,
         round(100.0 * j.done / nullif(j.total, 0), 1) AS percent_done,
         j.valid, j.caution, j.risky, j.invalid,
         j.started_at, j.finished_at,
         round((j.done / nullif(extract(epoch FROM coalesce(j.finished_at, now()) - j.started_at), 0))::numeric, 1)
           AS addresses_per_second,
         CASE WHEN j.state = 'running' AND j.done > 0 THEN
           (coalesce(j.finished_at, now()) - j.started_at) * ((j.total - j.done)::float8 / j.done)
         END AS estimated_time_left
  FROM mailsentry.job_queue j
  WHERE (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = session_user)
     OR pg_catalog.pg_has_role(session_user,
          (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = j.submitted_by), 'MEMBER');

-- Not for PUBLIC (addresses are personal data); a role granted it (and
-- EXECUTE on cached_result) sees the results of the jobs it may see above.
CREATE OR REPLACE VIEW mailsentry.job_results WITH (security_barrier) AS
  SELECT i.job_id, i.item, i.email, r.normalized, r.score, r.verdict, r.recommendation,
         r.verification_level, r.smtp_valid, r.catch_all, r.is_disposable, r.is_role_based,
         r.has_typo, r.suggestion, r.checked_at
  FROM mailsentry.job_items i CROSS JOIN LATERAL mailsentry.cached_result(i.email) r
  WHERE i.verdict IS NOT NULL
    AND EXISTS (
      SELECT FROM mailsentry.job_queue j
      WHERE j.job_id = i.job_id
        AND ((SELECT ro.rolsuper FROM pg_catalog.pg_roles ro WHERE ro.rolname = session_user)
             OR pg_catalog.pg_has_role(session_user,
                  (SELECT ro.oid FROM pg_catalog.pg_roles ro WHERE ro.rolname = j.submitted_by),
                  'MEMBER')));

-- A superuser may cancel the job of a dropped role; the error does not name
-- the owner of a job the caller may not see. (The RAISE lines keep their
-- line numbers: error contexts name them.)
CREATE OR REPLACE FUNCTION mailsentry.cancel(job bigint) RETURNS boolean
  LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
  DECLARE
    owner name;
  BEGIN
    SELECT submitted_by INTO owner FROM mailsentry.job_queue WHERE job_id = job;
    IF NOT FOUND THEN
      RETURN false;
    END IF;
    IF NOT (coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false) OR coalesce(pg_has_role(session_user, (SELECT oid FROM pg_roles WHERE rolname = owner), 'MEMBER'), false)) THEN
      RAISE EXCEPTION 'mailsentry: job % belongs to another role', job
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE mailsentry.job_queue SET state = 'cancelled', finished_at = now()
      WHERE job_id = job AND state IN ('queued', 'running');
    RETURN FOUND;
  END
  $$;

-- Depth names are written once, in the library: the SQL checks read them.
CREATE FUNCTION mailsentry.depth_names() RETURNS text[]
  AS 'MODULE_PATHNAME', 'mailsentry_depth_names'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mailsentry.depth_names() IS
  'The verification depths, shallowest first (quick, standard, extended)';
CREATE FUNCTION mailsentry.require_depth(depth text) RETURNS void
  AS 'MODULE_PATHNAME', 'mailsentry_require_depth'
  LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mailsentry.require_depth(text) IS
  'Raises the unknown-depth error of the verification functions unless the depth is one of depth_names()';
ALTER TABLE mailsentry.job_queue DROP CONSTRAINT job_queue_depth_check;
ALTER TABLE mailsentry.job_queue ADD CONSTRAINT job_queue_depth_check
  CHECK (depth = ANY (mailsentry.depth_names()));

-- submit() in one pass over its list: each exact text once, numbered in the
-- order of first occurrence (a GROUP BY and a sort cost seconds per million).
CREATE FUNCTION mailsentry.distinct_elements(elements text[])
  RETURNS TABLE (item bigint, element text)
  AS 'MODULE_PATHNAME', 'mailsentry_distinct_elements'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mailsentry.distinct_elements(text[]) IS
  'The non-NULL, non-empty elements of an array, each exact text once, numbered from 1 in the order of first occurrence';

-- A job's items go with it through one statement-level trigger, not a
-- foreign key: the key's check ran once per inserted item, the larger part
-- of submitting a million addresses.
ALTER TABLE mailsentry.job_items DROP CONSTRAINT job_items_job_id_fkey;
CREATE FUNCTION mailsentry.delete_job_items() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
  BEGIN
    IF TG_OP = 'TRUNCATE' THEN
      TRUNCATE mailsentry.job_items;
    ELSE
      DELETE FROM mailsentry.job_items i USING deleted_jobs d WHERE i.job_id = d.job_id;
    END IF;
    RETURN NULL;
  END
  $$;
COMMENT ON FUNCTION mailsentry.delete_job_items() IS
  'Trigger: deletes the items of deleted jobs (all items when mailsentry.job_queue is truncated)';
REVOKE EXECUTE ON FUNCTION mailsentry.delete_job_items() FROM PUBLIC;
CREATE TRIGGER job_queue_delete_items AFTER DELETE ON mailsentry.job_queue
  REFERENCING OLD TABLE AS deleted_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION mailsentry.delete_job_items();
CREATE TRIGGER job_queue_truncate_items AFTER TRUNCATE ON mailsentry.job_queue
  FOR EACH STATEMENT EXECUTE FUNCTION mailsentry.delete_job_items();

-- Labels are shown in mailsentry.jobs: at most 200 characters. The error for
-- an unknown depth echoes at most 40 characters of it.
CREATE OR REPLACE FUNCTION mailsentry.submit(emails text[], depth text DEFAULT 'standard',
                                             label text DEFAULT 'array')
  RETURNS bigint
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
  DECLARE
    new_job bigint;
    item_count bigint;
  BEGIN
    IF emails IS NULL THEN
      RAISE EXCEPTION 'mailsentry: the list of addresses is NULL'
        USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- The same error as the verification functions' (names from the library).
    PERFORM mailsentry.require_depth(depth);
    IF length(label) > 200 THEN
      RAISE EXCEPTION 'mailsentry: the label has % characters', length(label)
        USING ERRCODE = 'string_data_right_truncation', DETAIL = 'A label has at most 200 characters.';
    END IF;
    INSERT INTO mailsentry.job_queue (submitted_by, source, depth, total)
      VALUES (session_user, coalesce(label, ''), depth, 0)
      RETURNING job_id INTO new_job;
    -- Exact duplicates are verified once; NULL and empty elements are skipped.
    -- Inserted in item order: the primary key grows at its right edge.
    INSERT INTO mailsentry.job_items (job_id, item, email, address)
      SELECT new_job, d.item, d.element, @extschema@.email_normalize(d.element)
      FROM mailsentry.distinct_elements(emails) d;
    GET DIAGNOSTICS item_count = ROW_COUNT;
    UPDATE mailsentry.job_queue SET total = item_count,
        state = CASE WHEN item_count = 0 THEN 'finished' ELSE 'queued' END,
        finished_at = CASE WHEN item_count = 0 THEN now() END
      WHERE job_id = new_job;
    RETURN new_job;
  END
  $$;

-- A quoted schema, table and column can make a longer label than submit()
-- takes: the label is cut to 200 characters.
CREATE OR REPLACE FUNCTION mailsentry.submit(tbl regclass, col name, depth text DEFAULT 'standard')
  RETURNS bigint
  LANGUAGE plpgsql VOLATILE STRICT SECURITY INVOKER
  AS $$
  DECLARE
    addresses text[];
  BEGIN
    EXECUTE format('SELECT array_agg(%I::text) FROM %s', col, tbl) INTO addresses;
    RETURN mailsentry.submit(coalesce(addresses, '{}'::text[]), depth, left(format('%s.%I', tbl, col), 200));
  END
  $$;
