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
CREATE FUNCTION @extschema@.verify_email(email text, depth text DEFAULT 'standard')
  RETURNS @extschema@.email_verification
  AS 'MODULE_PATHNAME', 'verify_email'
  LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.verify_email(text, text) IS
  'Every check of the address, the network ones by the mailsentry worker; depth quick, standard or extended';

CREATE FUNCTION @extschema@.verify_email_json(email text, depth text DEFAULT 'standard')
  RETURNS jsonb
  AS 'MODULE_PATHNAME', 'verify_email_json'
  LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.verify_email_json(text, text) IS
  'verify_email() as nested JSON';

-- Reaching the network is a privilege: grant it explicitly.
REVOKE EXECUTE ON FUNCTION @extschema@.verify_email(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.verify_email_json(text, text) FROM PUBLIC;

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
    OUT requests bigint, OUT completed bigint, OUT in_flight bigint, OUT queued bigint,
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
