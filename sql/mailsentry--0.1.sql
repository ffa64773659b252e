/* mailsentry--0.1.sql: verification functions in the extension's schema,
 * mailsentry's own state and administration in schema mailsentry. */

\echo Use "CREATE EXTENSION mailsentry" to load this file. \quit


DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'mailsentry') THEN
    CREATE SCHEMA mailsentry;
  END IF;
END
$$;
GRANT USAGE ON SCHEMA mailsentry TO PUBLIC;

-- The background worker serves one database (mailsentry.database), like
-- pg_cron: the extension belongs there. Without the library preloaded there
-- is no worker, and the network-free functions may be installed anywhere.
CREATE FUNCTION mailsentry.worker_database() RETURNS text
  AS 'MODULE_PATHNAME', 'mailsentry_worker_database'
  LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mailsentry.worker_database() IS
  'The database the worker serves (mailsentry.database); NULL when the library is not preloaded';
DO $$
DECLARE
  worker_database text := mailsentry.worker_database();
BEGIN
  IF worker_database IS NOT NULL AND worker_database <> current_database() THEN
    RAISE EXCEPTION 'mailsentry must be created in database "%", where its worker runs',
      worker_database
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = format('Connect to "%s", or set mailsentry.database = %L in postgresql.conf '
                          'and restart the server.', worker_database, current_database());
  END IF;
END
$$;

------------------------------------------------------------------------------
-- The result of every verification function.
------------------------------------------------------------------------------
CREATE TYPE @extschema@.email_verification AS (
  email                text,
  normalized           text,
  score                integer,
  verdict              text,
  recommendation       text,
  verification_level   text,
  verification_depth   text,
  warning              text,
  issues               text[],
  syntax_valid         boolean,
  plus_alias           text,
  mx_found             boolean,
  mx_records           text[],
  is_disposable        boolean,
  is_role_based        boolean,
  role_type            text,
  is_free              boolean,
  provider_name        text,
  is_business          boolean,
  mx_provider          text,
  has_typo             boolean,
  suggestion           text,
  smtp_valid           boolean,
  catch_all            boolean,
  mx_host              text,
  greylisted           boolean,
  catch_all_confidence integer,
  smtp_code            integer,
  smtp_message         text,
  is_gibberish         boolean,
  gibberish_score      integer,
  gibberish_pattern    text,
  is_potential_trap    boolean,
  trap_type            text,
  trap_confidence      integer,
  domain_created       date,
  domain_age_days      integer,
  domain_risk_flag     text,
  is_toxic             boolean,
  abuse_type           text,
  checked_at           timestamptz,
  cached               boolean,
  response_time_ms     double precision
);

------------------------------------------------------------------------------
-- Network-free checks: safe in CHECK constraints, triggers and bulk queries.
------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.email_syntax_valid(text) RETURNS boolean
  AS 'MODULE_PATHNAME', 'email_syntax_valid'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.email_syntax_valid(text) IS
  'True when the text is an RFC 5321 envelope mailbox (RFC 6531 UTF-8 local parts allowed)';

CREATE FUNCTION @extschema@.email_normalize(text) RETURNS text
  AS 'MODULE_PATHNAME', 'email_normalize'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.email_normalize(text) IS
  'The address with its domain lower-cased in A-label form; NULL when the syntax is invalid';

-- STABLE, not IMMUTABLE: the popular-domain list can be changed by the user.
CREATE FUNCTION @extschema@.email_suggest(text) RETURNS text
  AS 'MODULE_PATHNAME', 'email_suggest'
  LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.email_suggest(text) IS
  'The corrected address for a misspelled domain (gmial.com -> gmail.com), or NULL';

CREATE FUNCTION @extschema@.email_check_offline(text) RETURNS @extschema@.email_verification
  AS 'MODULE_PATHNAME', 'email_check_offline'
  LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.email_check_offline(text) IS
  'Every network-free check and the score; network fields are NULL, verification_level is estimated';

------------------------------------------------------------------------------
-- Network verification: the checks above plus MX, SMTP, domain age and DNS
-- blocklists, run by the background worker.
------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.verify_email(email text, depth text DEFAULT 'standard',
                                         refresh boolean DEFAULT false)
  RETURNS @extschema@.email_verification
  AS 'MODULE_PATHNAME', 'verify_email'
  LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.verify_email(text, text, boolean) IS
  'Every check of the address, the network ones by the mailsentry worker or from mailsentry.cache; depth quick, standard or extended; refresh skips the cache';

CREATE FUNCTION @extschema@.verify_email_json(email text, depth text DEFAULT 'standard',
                                              refresh boolean DEFAULT false)
  RETURNS jsonb
  AS 'MODULE_PATHNAME', 'verify_email_json'
  LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.verify_email_json(text, text, boolean) IS
  'verify_email() as nested JSON';

CREATE FUNCTION @extschema@.verify_emails(emails text[], depth text DEFAULT 'standard',
                                          refresh boolean DEFAULT false)
  RETURNS SETOF @extschema@.email_verification
  AS 'MODULE_PATHNAME', 'verify_emails'
  LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED ROWS 1000;
COMMENT ON FUNCTION @extschema@.verify_emails(text[], text, boolean) IS
  'verify_email() for many addresses at once: one row per distinct non-NULL element; network-free and cached verdicts first, then the others as they finish';

-- Reaching the network is a privilege: grant it explicitly.
REVOKE EXECUTE ON FUNCTION @extschema@.verify_email(text, text, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.verify_email_json(text, text, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.verify_emails(text[], text, boolean) FROM PUBLIC;

CREATE DOMAIN @extschema@.email_address AS text
  CHECK (@extschema@.email_syntax_valid(VALUE));
COMMENT ON DOMAIN @extschema@.email_address IS
  'Text that is a syntactically valid envelope mailbox';

------------------------------------------------------------------------------
-- Administration: user overrides of the built-in lists and score weights.
------------------------------------------------------------------------------
CREATE FUNCTION mailsentry.list_names() RETURNS SETOF text
  AS 'MODULE_PATHNAME', 'mailsentry_list_names'
  LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mailsentry.list_names() IS 'The names of the built-in lists';

CREATE FUNCTION mailsentry._list_name_valid(text) RETURNS boolean
  AS 'MODULE_PATHNAME', 'mailsentry_list_name_valid'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION mailsentry._weight_name_valid(text) RETURNS boolean
  AS 'MODULE_PATHNAME', 'mailsentry_weight_name_valid'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION mailsentry.builtin_list(list_name text, OUT entry text, OUT detail text)
  RETURNS SETOF record
  AS 'MODULE_PATHNAME', 'mailsentry_builtin_list'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mailsentry.builtin_list(text) IS
  'The entries of a built-in list as shipped, before user overrides';

CREATE FUNCTION mailsentry.default_weights(OUT name text, OUT points integer, OUT meaning text)
  RETURNS SETOF record
  AS 'MODULE_PATHNAME', 'mailsentry_default_weights'
  LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mailsentry.default_weights() IS 'The built-in score weights';

CREATE FUNCTION mailsentry._overrides_changed() RETURNS trigger
  AS 'MODULE_PATHNAME', 'mailsentry_overrides_changed'
  LANGUAGE C;

CREATE TABLE mailsentry.list_overrides (
  list_name  text NOT NULL CHECK (mailsentry._list_name_valid(list_name)),
  entry      text NOT NULL CHECK (entry <> '' AND entry = lower(btrim(entry))),
  action     text NOT NULL DEFAULT 'add' CHECK (action IN ('add', 'remove')),
  detail     text,
  reason     text,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by name NOT NULL DEFAULT current_user,
  PRIMARY KEY (list_name, entry),
  -- A role entry says its tier and group, as data/roles.tsv does.
  CHECK (list_name <> 'roles' OR action = 'remove' OR detail ~ '^(system|role|none):[a-z_]+$')
);
COMMENT ON TABLE mailsentry.list_overrides IS
  'Entries added to or removed from the built-in lists; effective at the next call in every session';
CREATE TRIGGER list_overrides_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON mailsentry.list_overrides
  FOR EACH STATEMENT EXECUTE FUNCTION mailsentry._overrides_changed();
SELECT pg_catalog.pg_extension_config_dump('mailsentry.list_overrides', '');

CREATE TABLE mailsentry.weight_overrides (
  name       text PRIMARY KEY CHECK (mailsentry._weight_name_valid(name)),
  points     integer NOT NULL CHECK (points BETWEEN 0 AND 100),
  reason     text,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by name NOT NULL DEFAULT current_user
);
COMMENT ON TABLE mailsentry.weight_overrides IS
  'Score weights that replace the built-in ones (see mailsentry.score_weights)';
CREATE TRIGGER weight_overrides_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON mailsentry.weight_overrides
  FOR EACH STATEMENT EXECUTE FUNCTION mailsentry._overrides_changed();
SELECT pg_catalog.pg_extension_config_dump('mailsentry.weight_overrides', '');

CREATE VIEW mailsentry.score_weights AS
  SELECT d.name, d.points AS default_points, coalesce(o.points, d.points) AS points,
         o.points IS NOT NULL AS overridden, d.meaning
  FROM mailsentry.default_weights() d
  LEFT JOIN mailsentry.weight_overrides o USING (name);
COMMENT ON VIEW mailsentry.score_weights IS 'The score weights in effect';

-- Every verification reads the overrides, so every role that verifies can read them;
-- only the owner (or roles it grants to) may change them.
GRANT SELECT ON mailsentry.list_overrides, mailsentry.weight_overrides,
  mailsentry.score_weights TO PUBLIC;

------------------------------------------------------------------------------
-- Monitoring: the request queue and the worker.
------------------------------------------------------------------------------
CREATE FUNCTION mailsentry.stats(
    OUT worker_state text, OUT worker_pid integer, OUT worker_starts bigint,
    OUT requests bigint, OUT cache_hits bigint, OUT completed bigint, OUT in_flight bigint, OUT queued bigint,
    OUT timeouts bigint, OUT errors bigint, OUT queue_full_waits bigint,
    OUT queue_size integer, OUT smtp_sessions_open bigint)
  AS 'MODULE_PATHNAME', 'mailsentry_stats'
  LANGUAGE C VOLATILE;
CREATE VIEW mailsentry.stats AS SELECT * FROM mailsentry.stats();
COMMENT ON VIEW mailsentry.stats IS
  'The worker and the request queue since the server started (like pg_stat_* views)';

CREATE FUNCTION mailsentry.mx_stats(
    OUT mx_host text, OUT sessions_open integer, OUT queued integer, OUT probes bigint,
    OUT timeouts bigint, OUT errors bigint, OUT circuit_breaker_open boolean,
    OUT updated_at timestamptz)
  RETURNS SETOF record
  AS 'MODULE_PATHNAME', 'mailsentry_mx_stats'
  LANGUAGE C VOLATILE;
CREATE VIEW mailsentry.mx_stats AS SELECT * FROM mailsentry.mx_stats();
COMMENT ON VIEW mailsentry.mx_stats IS
  'Per MX host: SMTP sessions, probes, timeouts, errors, circuit breaker (published each second)';
GRANT SELECT ON mailsentry.stats, mailsentry.mx_stats TO PUBLIC;

------------------------------------------------------------------------------
-- The verdict cache. Only the worker writes it, in its own transactions, so a
-- verdict survives the caller's ROLLBACK or cancel. It holds the network
-- facts; score, verdict and recommendation are computed from them when read,
-- with the lists and weights in effect then. Personal data: not for PUBLIC.
------------------------------------------------------------------------------
CREATE TABLE mailsentry.cache (
  address                text PRIMARY KEY,   -- email_normalize() of the address
  domain                 text NOT NULL,
  depth                  text NOT NULL CHECK (depth IN ('quick', 'standard', 'extended')),
  mx_found               boolean,
  implicit_mx            boolean NOT NULL DEFAULT false,
  mx_records             text[] NOT NULL DEFAULT '{}',
  mx_provider            text,
  smtp_outcome           text NOT NULL
    CHECK (smtp_outcome IN ('not_attempted', 'exists', 'does_not_exist', 'inconclusive')),
  smtp_skipped_by_policy boolean NOT NULL DEFAULT false,
  catch_all              boolean,
  greylisted             boolean NOT NULL DEFAULT false,
  mx_host                text,
  smtp_code              integer,
  smtp_message           text,
  domain_created         date,
  dnsbl_listed           boolean NOT NULL DEFAULT false,
  warnings               text[] NOT NULL DEFAULT '{}',
  inconclusive           boolean NOT NULL,   -- no definitive answer: shorter TTL, re-probed
  checked_at             timestamptz NOT NULL,
  expires_at             timestamptz NOT NULL,
  reprobe_at             timestamptz,        -- when the worker asks again (inconclusive only)
  reprobes               integer NOT NULL DEFAULT 0
);
CREATE INDEX cache_expires_at ON mailsentry.cache (expires_at);
CREATE INDEX cache_reprobe_at ON mailsentry.cache (reprobe_at) WHERE reprobe_at IS NOT NULL;
COMMENT ON TABLE mailsentry.cache IS
  'Network facts per address, written by the worker; verdicts are computed from them when read';
REVOKE ALL ON mailsentry.cache FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('mailsentry.cache', '');

-- Facts about a domain that every address there shares, so that a restart
-- does not look them up again.
CREATE TABLE mailsentry.domains (
  domain                 text PRIMARY KEY,
  mx_found               boolean,
  implicit_mx            boolean NOT NULL DEFAULT false,
  mx_records             text[] NOT NULL DEFAULT '{}',
  mx_checked_at          timestamptz,
  mx_expires_at          timestamptz,
  catch_all              boolean,
  catch_all_checked_at   timestamptz,
  catch_all_expires_at   timestamptz,
  registrable_domain     text,
  domain_created         date,
  created_checked_at     timestamptz,
  created_expires_at     timestamptz,
  dnsbl_listed           boolean,
  updated_at             timestamptz NOT NULL
);
COMMENT ON TABLE mailsentry.domains IS
  'Per domain: MX answer, catch-all status and registration date, restored by the worker at start';
SELECT pg_catalog.pg_extension_config_dump('mailsentry.domains', '');

CREATE TABLE mailsentry.mx_health (
  mx_host              text PRIMARY KEY,
  probes               bigint NOT NULL DEFAULT 0,
  timeouts             bigint NOT NULL DEFAULT 0,
  errors               bigint NOT NULL DEFAULT 0,
  circuit_breaker_open boolean NOT NULL DEFAULT false,
  circuit_breaker_open_until timestamptz,  -- restored by the worker after a restart
  updated_at           timestamptz NOT NULL
);
COMMENT ON TABLE mailsentry.mx_health IS
  'Per MX host, totals over restarts: probes, timeouts, errors, and the circuit breaker';

CREATE VIEW mailsentry.domain_facts AS
  SELECT d.domain, d.mx_found, d.implicit_mx, d.mx_records, d.catch_all, d.registrable_domain,
         d.domain_created, (current_date - d.domain_created) AS domain_age_days, d.dnsbl_listed,
         d.mx_expires_at > now() AS mx_fresh, d.catch_all_expires_at > now() AS catch_all_fresh,
         d.updated_at
  FROM mailsentry.domains d;
COMMENT ON VIEW mailsentry.domain_facts IS 'What the worker knows about each domain';
-- Domains and MX hosts are not personal data.
GRANT SELECT ON mailsentry.domains, mailsentry.mx_health, mailsentry.domain_facts TO PUBLIC;

-- The verdict for an address from the cache alone (no network): every
-- network-free check, plus the cached facts when there are some (even
-- expired ones; checked_at tells their age). Reads the cache without the
-- caller's SELECT privilege on it, so it is not for PUBLIC either.
-- VOLATILE: it reads the cache as last committed, not in the statement's snapshot.
CREATE FUNCTION mailsentry.cached_result(email text) RETURNS @extschema@.email_verification
  AS 'MODULE_PATHNAME', 'mailsentry_cached_result'
  LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mailsentry.cached_result(text) IS
  'The verdict from the cached facts only, computed with the lists and weights in effect now';
REVOKE EXECUTE ON FUNCTION mailsentry.cached_result(text) FROM PUBLIC;

CREATE VIEW mailsentry.verdicts AS
  SELECT c.address, r.score, r.verdict, r.recommendation, r.verification_level,
         r.smtp_valid, r.catch_all, r.is_disposable, r.is_role_based, r.has_typo, r.suggestion,
         c.checked_at, c.expires_at, c.expires_at <= now() AS expired
  FROM mailsentry.cache c CROSS JOIN LATERAL mailsentry.cached_result(c.address) r;
COMMENT ON VIEW mailsentry.verdicts IS
  'Every cached address with its verdict computed now from the cached facts';
REVOKE ALL ON mailsentry.verdicts FROM PUBLIC;

CREATE FUNCTION mailsentry.forget(email text) RETURNS boolean
  LANGUAGE sql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    WITH gone AS (
      DELETE FROM mailsentry.cache
      WHERE address = coalesce(@extschema@.email_normalize(email), email)
      RETURNING 1),
    items AS (
      DELETE FROM mailsentry.job_items
      WHERE email = forget.email
         OR address = coalesce(@extschema@.email_normalize(forget.email), forget.email)
      RETURNING 1)
    SELECT EXISTS (SELECT FROM gone) OR EXISTS (SELECT FROM items)
  $$;
COMMENT ON FUNCTION mailsentry.forget(text) IS
  'Erases an address from the cache and from every job (right to erasure); true when it was there';
REVOKE EXECUTE ON FUNCTION mailsentry.forget(text) FROM PUBLIC;

CREATE FUNCTION mailsentry.purge_cache(expired_only boolean DEFAULT false) RETURNS bigint
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
  DECLARE
    removed bigint;
  BEGIN
    IF expired_only THEN
      DELETE FROM mailsentry.cache WHERE expires_at <= now();
    ELSE
      DELETE FROM mailsentry.cache;
    END IF;
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
  END
  $$;
COMMENT ON FUNCTION mailsentry.purge_cache(boolean) IS
  'Empties the verdict cache (or only its expired rows); returns the number of rows removed';
REVOKE EXECUTE ON FUNCTION mailsentry.purge_cache(boolean) FROM PUBLIC;

------------------------------------------------------------------------------
-- Background jobs: addresses to verify, kept in tables so that a job survives
-- a restart. The worker takes them in submission order.
------------------------------------------------------------------------------
CREATE TABLE mailsentry.job_queue (
  job_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  submitted_by name NOT NULL,
  submitted_at timestamptz NOT NULL DEFAULT now(),
  source       text NOT NULL,   -- the label: 'array' or the table column
  depth        text NOT NULL CHECK (depth IN ('quick', 'standard', 'extended')),
  state        text NOT NULL DEFAULT 'queued'
    CHECK (state IN ('queued', 'running', 'finished', 'cancelled')),
  total        bigint NOT NULL,
  done         bigint NOT NULL DEFAULT 0,
  valid        bigint NOT NULL DEFAULT 0,
  caution      bigint NOT NULL DEFAULT 0,
  risky        bigint NOT NULL DEFAULT 0,
  invalid      bigint NOT NULL DEFAULT 0,
  started_at   timestamptz,
  finished_at  timestamptz
);
CREATE INDEX job_queue_active ON mailsentry.job_queue (job_id) WHERE state IN ('queued', 'running');

CREATE TABLE mailsentry.job_items (
  job_id  bigint NOT NULL REFERENCES mailsentry.job_queue ON DELETE CASCADE,
  item    bigint NOT NULL,   -- position in the submitted list, from 1
  email   text NOT NULL,
  address text,              -- normalized; NULL when the syntax is invalid
  verdict text,              -- NULL until the worker has finished the address
  score   integer,
  done_at timestamptz,
  PRIMARY KEY (job_id, item)
);
CREATE INDEX job_items_pending ON mailsentry.job_items (job_id, item) WHERE verdict IS NULL;
REVOKE ALL ON mailsentry.job_queue, mailsentry.job_items FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('mailsentry.job_queue', '');
SELECT pg_catalog.pg_extension_config_dump('mailsentry.job_items', '');
SELECT pg_catalog.pg_extension_config_dump('mailsentry.job_queue_job_id_seq', '');

CREATE FUNCTION mailsentry.submit(emails text[], depth text DEFAULT 'standard',
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
    IF depth IS NULL OR depth NOT IN ('quick', 'standard', 'extended') THEN
      RAISE EXCEPTION 'mailsentry: unknown depth "%"', depth
        USING ERRCODE = 'invalid_parameter_value', HINT = 'Use ''quick'', ''standard'' or ''extended''.';
    END IF;
    INSERT INTO mailsentry.job_queue (submitted_by, source, depth, total)
      VALUES (session_user, coalesce(label, ''), depth, 0)
      RETURNING job_id INTO new_job;
    -- Exact duplicates are verified once; NULL and empty elements are skipped.
    INSERT INTO mailsentry.job_items (job_id, item, email, address)
      SELECT new_job, row_number() OVER (ORDER BY first_position), e,
             @extschema@.email_normalize(e)
      FROM (SELECT e, min(position) AS first_position
            FROM unnest(emails) WITH ORDINALITY AS u(e, position)
            WHERE e IS NOT NULL AND e <> ''
            GROUP BY e) d;
    GET DIAGNOSTICS item_count = ROW_COUNT;
    UPDATE mailsentry.job_queue SET total = item_count,
        state = CASE WHEN item_count = 0 THEN 'finished' ELSE 'queued' END,
        finished_at = CASE WHEN item_count = 0 THEN now() END
      WHERE job_id = new_job;
    RETURN new_job;
  END
  $$;
COMMENT ON FUNCTION mailsentry.submit(text[], text, text) IS
  'Queues a background job verifying the addresses; it starts when the caller commits; returns its id';

-- Reads the column with the caller's privileges (and row security), then
-- queues the addresses as submit(text[]) does.
CREATE FUNCTION mailsentry.submit(tbl regclass, col name, depth text DEFAULT 'standard')
  RETURNS bigint
  LANGUAGE plpgsql VOLATILE STRICT SECURITY INVOKER
  AS $$
  DECLARE
    addresses text[];
  BEGIN
    EXECUTE format('SELECT array_agg(%I::text) FROM %s', col, tbl) INTO addresses;
    RETURN mailsentry.submit(coalesce(addresses, '{}'::text[]), depth, format('%s.%I', tbl, col));
  END
  $$;
COMMENT ON FUNCTION mailsentry.submit(regclass, name, text) IS
  'Queues a background job verifying every address of a table column (call it as submit(''tbl''::regclass, ''col'')), read with the caller''s privileges';

CREATE FUNCTION mailsentry.cancel(job bigint) RETURNS boolean
  LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
  DECLARE
    owner name;
  BEGIN
    SELECT submitted_by INTO owner FROM mailsentry.job_queue WHERE job_id = job;
    IF NOT FOUND THEN
      RETURN false;
    END IF;
    IF NOT pg_has_role(session_user, owner, 'MEMBER') THEN
      RAISE EXCEPTION 'mailsentry: job % belongs to role %', job, owner
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE mailsentry.job_queue SET state = 'cancelled', finished_at = now()
      WHERE job_id = job AND state IN ('queued', 'running');
    RETURN FOUND;
  END
  $$;
COMMENT ON FUNCTION mailsentry.cancel(bigint) IS
  'Stops a queued or running job (verdicts already reached stay cached); false when it had ended';

REVOKE EXECUTE ON FUNCTION mailsentry.submit(text[], text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION mailsentry.submit(regclass, name, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION mailsentry.cancel(bigint) FROM PUBLIC;

CREATE VIEW mailsentry.jobs AS
  SELECT j.job_id, j.submitted_by, j.submitted_at, j.source, j.depth, j.state, j.total, j.done,
         round(100.0 * j.done / nullif(j.total, 0), 1) AS percent_done,
         j.valid, j.caution, j.risky, j.invalid,
         j.started_at, j.finished_at,
         round((j.done / nullif(extract(epoch FROM coalesce(j.finished_at, now()) - j.started_at), 0))::numeric, 1)
           AS addresses_per_second,
         CASE WHEN j.state = 'running' AND j.done > 0 THEN
           (coalesce(j.finished_at, now()) - j.started_at) * ((j.total - j.done)::float8 / j.done)
         END AS estimated_time_left
  FROM mailsentry.job_queue j;
COMMENT ON VIEW mailsentry.jobs IS
  'Background jobs: progress, verdict counts, rate and estimated time left';
GRANT SELECT ON mailsentry.jobs TO PUBLIC;

CREATE VIEW mailsentry.job_results AS
  SELECT i.job_id, i.item, i.email, r.normalized, r.score, r.verdict, r.recommendation,
         r.verification_level, r.smtp_valid, r.catch_all, r.is_disposable, r.is_role_based,
         r.has_typo, r.suggestion, r.checked_at
  FROM mailsentry.job_items i CROSS JOIN LATERAL mailsentry.cached_result(i.email) r
  WHERE i.verdict IS NOT NULL;
COMMENT ON VIEW mailsentry.job_results IS
  'The finished addresses of each job, with verdicts computed now from the cache';
REVOKE ALL ON mailsentry.job_results FROM PUBLIC;
