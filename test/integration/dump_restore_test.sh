#!/usr/bin/env bash
# pg_dump round trip: a database that uses mailsentry (user tables with the
# email_address domain, a CHECK constraint, a trigger, an expression index, a
# generated column, views; list and weight overrides, cache and domain rows,
# jobs) is dumped with pg_dump -Fc from one throwaway cluster and restored
# with pg_restore into a fresh one. Both then must hold the same rows, the same
# catalog definitions and sequences, and give the same answers, and the
# restored database must still enforce its constraints, fire its trigger and
# continue the job ids. No network: the worker is disabled in both clusters.
# Needs root (the clusters run as postgres) and the extension installed.
# DUMP_TEST_RESTORE_JOBS=N restores in parallel (pg_restore -j N).
# Prints "test pg_dump_round_trip ... ok" or "... FAILED (what differed)",
# the details of a failure on stderr; exits non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source scripts/temp_cluster.sh

SRC_PORT=${DUMP_TEST_SRC_PORT:-54395}
DST_PORT=${DUMP_TEST_DST_PORT:-54396}
DB=app
SRC_DIR=""
DST_DIR=""
WORK_DIR=""

# Stops both clusters, and one interrupted while starting.
cleanup() {
  local dir
  for dir in "$SRC_DIR" "$DST_DIR" "$TEMP_CLUSTER_DIR"; do
    [ -n "$dir" ] && [ -d "$dir" ] || continue
    TEMP_CLUSTER_DIR=$dir
    temp_cluster_stop
  done
  SRC_DIR="" DST_DIR="" TEMP_CLUSTER_DIR=""
  [ -z "$WORK_DIR" ] || rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

problems=()
finish() {
  if [ ${#problems[@]} -eq 0 ]; then
    echo "test pg_dump_round_trip ... ok"
    exit 0
  fi
  local joined
  joined=$(printf '%s; ' "${problems[@]}")
  echo "test pg_dump_round_trip ... FAILED (${joined%; })"
  exit 1
}
# A failure that stops the test: the step, and a file whose ERROR lines say why.
abort() {
  local why=""
  [ -z "${2:-}" ] || why=$(grep -m1 -E 'ERROR|FATAL|error' "$2" | sed -E 's/^psql:[^ ]* //')
  problems+=("$1${why:+: $why}")
  [ -z "${2:-}" ] || { echo "--- $1:" >&2; cat "$2" >&2; }
  finish
}

WORK_DIR=$(mktemp -d /tmp/mailsentry-dump-test.XXXXXX)
chown postgres: "$WORK_DIR"

# Throwaway clusters: no fsync (their shutdown checkpoints took seconds).
settings=("mailsentry.database = '$DB'" "mailsentry.enabled = off" "timezone = 'UTC'" "fsync = off")
start_cluster() {  # port; leaves the cluster's directory in TEMP_CLUSTER_DIR
  TEMP_CLUSTER_PORT=$1
  temp_cluster_start "${settings[@]}"
  trap cleanup EXIT  # temp_cluster_start sets its own, for one cluster only
}
use_src() { TEMP_CLUSTER_DIR=$SRC_DIR TEMP_CLUSTER_PORT=$SRC_PORT; }
use_dst() { TEMP_CLUSTER_DIR=$DST_DIR TEMP_CLUSTER_PORT=$DST_PORT; }
# SQL on database $DB of the current cluster, rows as "label<TAB>value".
app_sql() { temp_psql -d "$DB" -q -At -F $'\t' "$@"; }

start_cluster "$SRC_PORT"
SRC_DIR=$TEMP_CLUSTER_DIR
start_cluster "$DST_PORT"
DST_DIR=$TEMP_CLUSTER_DIR
for side in src dst; do
  "use_$side"
  temp_psql -q -c "CREATE DATABASE $DB" >"$WORK_DIR/$side-createdb.log" 2>&1 ||
    abort "$side cluster on port $TEMP_CLUSTER_PORT did not start" "$WORK_DIR/$side-createdb.log"
done

# Addresses whose network-free verdict the overrides change (checked below),
# and others; compared between the clusters after the restore.
override_probes="'jane@throwaway-acme.com', 'jane@mailinator.com', 'orders@acme-widgets.com',
  'sales@acme-widgets.com', 'jane@acme-widgest.com'"
other_probes="'bob.smith@gmail.com', 'x7qz9kvw2@yahoo.com', 'Info@Example-Shop.DE',
  'josé@utf8-mail.net', 'user+tag@outlook.com', 'not an address'"

# ---------------------------------------------------------------------------
# The source database.
# ---------------------------------------------------------------------------
use_src
app_sql -v override_probes="$override_probes" >"$WORK_DIR/setup.log" 2>&1 <<'SQL' ||
CREATE EXTENSION mailsentry;

-- Every network-free result of the probes before any override.
CREATE TEMP TABLE baseline AS
  SELECT a, to_jsonb(email_check_offline(a)) - 'checked_at' - 'response_time_ms' AS result,
         email_suggest(a) AS suggestion
  FROM unnest(ARRAY[:override_probes]) AS a;

-- Overrides of the built-in lists and weights.
INSERT INTO mailsentry.list_overrides (list_name, entry, action, detail, reason) VALUES
  ('disposable', 'throwaway-acme.com', 'add', NULL, 'seen in signup abuse'),
  ('disposable', 'mailinator.com', 'remove', NULL, 'our QA team uses it'),
  ('roles', 'orders', 'add', 'role:sales', NULL),
  ('roles', 'webmaster', 'remove', NULL, 'a person here'),
  ('popular_domains', 'acme-widgets.com', 'add', NULL, 'our own domain'),
  ('free_providers', 'acme-mail.example', 'add', NULL, NULL);
INSERT INTO mailsentry.weight_overrides (name, points, reason) VALUES
  ('role_address', 80, 'roles bounce for us'),
  ('disposable', 60, NULL),
  ('dead_domain', 95, 'keep a little doubt');

DO $$
DECLARE
  unchanged text;
BEGIN
  SELECT string_agg(b.a, ', ') INTO unchanged FROM baseline b
  WHERE to_jsonb(email_check_offline(b.a)) - 'checked_at' - 'response_time_ms' = b.result
    AND email_suggest(b.a) IS NOT DISTINCT FROM b.suggestion;
  IF unchanged IS NOT NULL THEN
    RAISE EXCEPTION 'fixture: the overrides change nothing for %', unchanged;
  END IF;
END
$$;

-- User tables: the extension's domain, a CHECK constraint, a trigger, an
-- expression index, a generated column, a column of the extension's type.
CREATE TABLE customers (
  id    integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  name  text NOT NULL,
  email email_address NOT NULL
);
CREATE UNIQUE INDEX customers_normalized_email ON customers (email_normalize(email));

CREATE TABLE signups (
  id           bigserial PRIMARY KEY,
  email        text NOT NULL CHECK (email_syntax_valid(email)),
  normalized   text GENERATED ALWAYS AS (email_normalize(email)) STORED,
  verdict      text,
  signed_up_at timestamptz NOT NULL DEFAULT '2024-05-01 12:00+00'
);
CREATE FUNCTION signups_fill_verdict() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.verdict := (email_check_offline(NEW.email)).verdict;
  RETURN NEW;
END
$$;
CREATE TRIGGER signups_verdict BEFORE INSERT ON signups
  FOR EACH ROW EXECUTE FUNCTION signups_fill_verdict();

CREATE TABLE verification_log (
  id        serial PRIMARY KEY,
  result    email_verification NOT NULL,
  logged_at timestamptz NOT NULL DEFAULT '2024-05-02 08:30+00'
);

CREATE VIEW customer_quality AS
  SELECT c.id, c.email, r.score, r.verdict, r.is_role_based
  FROM customers c CROSS JOIN LATERAL email_check_offline(c.email) r;
CREATE MATERIALIZED VIEW signup_scores AS
  SELECT s.email, r.score, r.verdict, r.is_disposable
  FROM signups s CROSS JOIN LATERAL email_check_offline(s.email) r;

INSERT INTO customers (name, email) VALUES
  ('Ann', 'ann@postfix-mail.net'), ('Sales desk', 'sales@acme-widgets.com'),
  ('Orders', 'orders@acme-widgets.com'), ('José', 'josé@utf8-mail.net'),
  ('Bob', 'Bob.Smith@Gmail.COM');
INSERT INTO signups (email) VALUES
  ('jane@throwaway-acme.com'), ('jane@mailinator.com'), ('jane@acme-widgest.com'),
  ('zed@postfix-mail.net'), ('x7qz9kvw2@yahoo.com'), ('info@example-shop.de');
INSERT INTO verification_log (result)
  SELECT email_check_offline(a)
  FROM unnest(ARRAY['ann@postfix-mail.net', 'jane@throwaway-acme.com', 'not an address']) AS a;
REFRESH MATERIALIZED VIEW signup_scores;

-- Network facts as the worker writes them (superuser: nobody else may).
INSERT INTO mailsentry.cache (address, domain, depth, mx_found, implicit_mx, mx_records,
    mx_provider, smtp_outcome, smtp_skipped_by_policy, catch_all, greylisted, mx_host,
    smtp_code, smtp_message, domain_created, dnsbl_listed, warnings, inconclusive,
    checked_at, expires_at, reprobe_at, reprobes, dead_domain) VALUES
  ('ann@postfix-mail.net', 'postfix-mail.net', 'standard', true, false, '{mx.postfix-mail.net}',
   NULL, 'exists', false, false, false, 'mx.postfix-mail.net', 250, '2.1.5 Ok', '2015-03-01',
   false, '{}', false, now() - interval '2 hours', now() + interval '30 days', NULL, 0, NULL),
  ('zed@postfix-mail.net', 'postfix-mail.net', 'standard', true, false, '{mx.postfix-mail.net}',
   NULL, 'does_not_exist', false, false, false, 'mx.postfix-mail.net', 550,
   '5.1.1 <zed@postfix-mail.net>: Recipient address rejected: User unknown', '2015-03-01',
   false, '{}', false, now() - interval '1 hour', now() + interval '30 days', NULL, 0, NULL),
  ('sales@catchall-mail.net', 'catchall-mail.net', 'extended', true, false,
   '{mx.catchall-mail.net}', NULL, 'exists', false, true, false, 'mx.catchall-mail.net', 250,
   '2.1.5 Ok', NULL, false, '{"domain age unknown"}', false, now() - interval '3 hours',
   now() + interval '7 days', NULL, 0, NULL),
  ('joe@greylist-mail.net', 'greylist-mail.net', 'standard', true, false,
   '{mx.greylist-mail.net}', NULL, 'inconclusive', false, NULL, true, 'mx.greylist-mail.net',
   451, '4.7.1 Try again later', NULL, false, '{}', true, now() - interval '5 minutes',
   now() + interval '1 hour', now() + interval '10 minutes', 1, NULL),
  ('ann@old-facts.net', 'old-facts.net', 'quick', false, false, '{}', NULL, 'not_attempted',
   false, NULL, false, NULL, NULL, NULL, NULL, false, '{}', false, now() - interval '40 days',
   now() - interval '10 days', NULL, 0, 'nxdomain'),
  ('bob@nullmx-mail.net', 'nullmx-mail.net', 'standard', false, false, '{}', NULL,
   'not_attempted', false, NULL, false, NULL, NULL, NULL, NULL, false, '{}', false,
   now() - interval '1 day', now() + interval '6 days', NULL, 0, 'null_mx'),
  ('josé@utf8-mail.net', 'utf8-mail.net', 'standard', true, false, '{mx.utf8-mail.net}', NULL,
   'exists', false, false, false, 'mx.utf8-mail.net', 250, '2.1.5 Ok', '2019-11-20', true,
   '{}', false, now() - interval '4 hours', now() + interval '30 days', NULL, 0, NULL);

INSERT INTO mailsentry.domains (domain, mx_found, implicit_mx, mx_records, mx_checked_at,
    mx_expires_at, catch_all, catch_all_checked_at, catch_all_expires_at, registrable_domain,
    domain_created, created_checked_at, created_expires_at, dnsbl_listed, updated_at) VALUES
  ('postfix-mail.net', true, false, '{mx.postfix-mail.net}', now() - interval '2 hours',
   now() + interval '1 day', false, now() - interval '2 hours', now() + interval '7 days',
   'postfix-mail.net', '2015-03-01', now() - interval '2 hours', now() + interval '30 days',
   false, now() - interval '1 hour'),
  ('catchall-mail.net', true, false, '{mx.catchall-mail.net}', now() - interval '3 hours',
   now() + interval '1 day', true, now() - interval '3 hours', now() + interval '7 days',
   'catchall-mail.net', NULL, now() - interval '3 hours', now() - interval '1 hour', false,
   now() - interval '3 hours'),
  ('old-facts.net', false, false, '{}', now() - interval '40 days', now() - interval '39 days',
   NULL, NULL, NULL, 'old-facts.net', NULL, NULL, NULL, NULL, now() - interval '40 days'),
  ('sub.utf8-mail.net', true, true, '{sub.utf8-mail.net}', now(), now() + interval '1 hour',
   NULL, NULL, NULL, 'utf8-mail.net', '2019-11-20', now(), now() + interval '30 days', true, now());

-- A finished job, finished as the worker would have done it.
SELECT mailsentry.submit(ARRAY['ann@postfix-mail.net', 'zed@postfix-mail.net',
  'sales@catchall-mail.net', 'not an address', 'ann@postfix-mail.net', NULL,
  'josé@utf8-mail.net', 'ann@old-facts.net'], 'standard', 'march newsletter') AS finished_job \gset
UPDATE mailsentry.job_items i
  SET (verdict, score, done_at) = (SELECT r.verdict, r.score, now() - interval '30 minutes'
                                   FROM mailsentry.cached_result(i.email) r)
  WHERE job_id = :finished_job;
UPDATE mailsentry.job_queue j SET state = 'finished', done = total,
    started_at = submitted_at + interval '1 second',
    finished_at = submitted_at + interval '9 seconds',
    valid = (SELECT count(*) FROM mailsentry.job_items i WHERE i.job_id = j.job_id AND i.verdict = 'valid'),
    caution = (SELECT count(*) FROM mailsentry.job_items i WHERE i.job_id = j.job_id AND i.verdict = 'caution'),
    risky = (SELECT count(*) FROM mailsentry.job_items i WHERE i.job_id = j.job_id AND i.verdict = 'risky'),
    invalid = (SELECT count(*) FROM mailsentry.job_items i WHERE i.job_id = j.job_id AND i.verdict = 'invalid')
  WHERE job_id = :finished_job;
-- A job rolled back (a gap in the job ids), one cancelled, one still queued.
BEGIN;
SELECT mailsentry.submit(ARRAY['gone@acme-widgets.com']);
ROLLBACK;
SELECT mailsentry.cancel(mailsentry.submit(ARRAY['a@acme-widgets.com', 'b@acme-widgets.com'], 'quick'));
SELECT mailsentry.submit('customers'::regclass, 'email');

-- The fixture is what it claims to be.
DO $$
BEGIN
  IF EXISTS (SELECT FROM mailsentry.cache WHERE address IS DISTINCT FROM email_normalize(address)) THEN
    RAISE EXCEPTION 'fixture: a cache key is not normalized';
  END IF;
  IF (SELECT string_agg(state, ',' ORDER BY job_id) FROM mailsentry.job_queue)
     IS DISTINCT FROM 'finished,cancelled,queued' THEN
    RAISE EXCEPTION 'fixture: jobs are %', (SELECT string_agg(state, ',' ORDER BY job_id) FROM mailsentry.job_queue);
  END IF;
  IF EXISTS (SELECT FROM mailsentry.job_items WHERE job_id = 1 AND verdict IS NULL) THEN
    RAISE EXCEPTION 'fixture: an item of the finished job has no verdict';
  END IF;
  IF NOT (SELECT bool_and((mailsentry.cached_result(address)).cached) FROM mailsentry.cache) THEN
    RAISE EXCEPTION 'fixture: cached_result does not read every cache row';
  END IF;
END
$$;
SQL
  abort "setting up the source database" "$WORK_DIR/setup.log"

# ---------------------------------------------------------------------------
# Dump and restore.
# ---------------------------------------------------------------------------
dump=$WORK_DIR/app.dump
as_postgres "$TEMP_CLUSTER_BIN/pg_dump" -Fc -h "$SRC_DIR" -p "$SRC_PORT" -d "$DB" -f "$dump" \
  2>"$WORK_DIR/pg_dump.err" || abort "pg_dump exited $?" "$WORK_DIR/pg_dump.err"
[ -s "$WORK_DIR/pg_dump.err" ] && abort "pg_dump wrote to stderr" "$WORK_DIR/pg_dump.err"

# DUMP_TEST_RESTORE_JOBS=N restores with pg_restore -j N (parallel).
restore_jobs=()
[ -z "${DUMP_TEST_RESTORE_JOBS:-}" ] || restore_jobs=(-j "$DUMP_TEST_RESTORE_JOBS")
as_postgres "$TEMP_CLUSTER_BIN/pg_restore" "${restore_jobs[@]}" -h "$DST_DIR" -p "$DST_PORT" -d "$DB" "$dump" \
  >"$WORK_DIR/pg_restore.out" 2>"$WORK_DIR/pg_restore.err"
restore_rc=$?
if [ "$restore_rc" -ne 0 ] || grep -qiE 'error|warning|fatal' "$WORK_DIR/pg_restore.err"; then
  abort "pg_restore exited $restore_rc" "$WORK_DIR/pg_restore.err"
fi

# ---------------------------------------------------------------------------
# What both databases must show alike. Each row: label <TAB> value.
# ---------------------------------------------------------------------------
fingerprint_sql=$(cat <<'SQL'
-- The rows of every table (any schema), of the user's views and
-- materialized views, and of the extension's views that do not describe
-- the running server.
SELECT format($q$SELECT %L, count(*) || ' rows, md5 ' || md5(coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '')) FROM %s t$q$,
              'rows of ' || c.oid::regclass::text, c.oid::regclass)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'
  AND (c.relkind IN ('r', 'p')
       OR (c.relkind IN ('v', 'm') AND n.nspname = 'public')
       OR c.oid::regclass::text IN ('mailsentry.score_weights', 'mailsentry.verdicts',
                                    'mailsentry.jobs', 'mailsentry.domain_facts'))
ORDER BY 1 \gexec
SELECT 'rows of mailsentry.job_results',
       count(*) || ' rows, md5 ' || md5(coalesce(string_agg((to_jsonb(r) - 'checked_at')::text, E'\n' ORDER BY r.job_id, r.item), ''))
FROM mailsentry.job_results r;
SELECT 'sequence ' || schemaname || '.' || sequencename, coalesce(last_value::text, 'not called')
FROM pg_sequences ORDER BY 1;

-- The extension: version, members, configuration tables, privileges.
SELECT 'extension', extversion || ' in schema ' || extnamespace::regnamespace::text
FROM pg_extension WHERE extname = 'mailsentry';
SELECT 'extension config tables',
       string_agg(u.tbl::regclass::text || ' [' || u.cond || ']', ', ' ORDER BY u.tbl::regclass::text)
FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(tbl, cond)
WHERE e.extname = 'mailsentry';
SELECT 'extension members',
       count(*) || ', md5 ' || md5(string_agg(pg_describe_object(classid, objid, objsubid), E'\n'
                                              ORDER BY pg_describe_object(classid, objid, objsubid)))
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'mailsentry');
SELECT 'privileges of ' || c.oid::regclass::text, coalesce(c.relacl::text, 'default')
FROM pg_class c WHERE c.relnamespace IN ('mailsentry'::regnamespace, 'public'::regnamespace)
  AND c.relkind IN ('r', 'v', 'm', 'S') ORDER BY 1;
SELECT 'privileges of ' || p.oid::regprocedure::text, coalesce(p.proacl::text, 'default')
FROM pg_proc p WHERE p.pronamespace IN ('mailsentry'::regnamespace, 'public'::regnamespace) ORDER BY 1;

-- Definitions: columns, constraints (domain ones too), indexes, triggers, functions.
SELECT 'columns of ' || a.attrelid::regclass::text,
       string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                  || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                  || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
                  || CASE a.attidentity WHEN '' THEN '' ELSE ' identity ' || a.attidentity::text END
                  || CASE a.attgenerated WHEN '' THEN '' ELSE ' generated ' || a.attgenerated::text END,
                  ', ' ORDER BY a.attnum)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace IN ('mailsentry'::regnamespace, 'public'::regnamespace)
  AND c.relkind IN ('r', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
GROUP BY a.attrelid ORDER BY 1;
SELECT 'constraint ' || CASE WHEN k.conrelid <> 0 THEN k.conrelid::regclass::text
                             ELSE k.contypid::regtype::text END || ' ' || k.conname,
       pg_get_constraintdef(k.oid) || CASE WHEN k.convalidated THEN '' ELSE ' not valid' END
FROM pg_constraint k
WHERE k.connamespace IN ('mailsentry'::regnamespace, 'public'::regnamespace) ORDER BY 1;
SELECT 'index ' || i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
       || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace IN ('mailsentry'::regnamespace, 'public'::regnamespace) ORDER BY 1;
SELECT 'trigger ' || t.tgrelid::regclass::text || ' ' || t.tgname,
       pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
FROM pg_trigger t WHERE NOT t.tgisinternal ORDER BY 1;
SELECT 'function ' || p.oid::regprocedure::text, md5(pg_get_functiondef(p.oid))
FROM pg_proc p WHERE p.pronamespace IN ('mailsentry'::regnamespace, 'public'::regnamespace)
  AND p.prokind IN ('f', 'p') ORDER BY 1;

-- Answers: the overrides in effect, the network-free checks, the cache.
SELECT 'overridden weights', string_agg(name || '=' || points, ', ' ORDER BY name)
FROM mailsentry.score_weights WHERE overridden;
SELECT 'email_check_offline ' || a,
       (to_jsonb(email_check_offline(a)) - 'checked_at' - 'response_time_ms')::text
FROM unnest(ARRAY[:override_probes, :other_probes]) AS a ORDER BY 1;
SELECT 'email_suggest/normalize/syntax ' || a,
       concat_ws(' | ', email_suggest(a), email_normalize(a), email_syntax_valid(a))
FROM unnest(ARRAY[:override_probes, :other_probes]) AS a ORDER BY 1;
SELECT 'cached_result ' || a,
       (to_jsonb(r) - 'response_time_ms' - CASE WHEN r.cached THEN '' ELSE 'checked_at' END)::text
FROM unnest(ARRAY['ann@postfix-mail.net', 'Ann@Postfix-Mail.NET', 'zed@postfix-mail.net',
                  'sales@catchall-mail.net', 'joe@greylist-mail.net', 'ann@old-facts.net',
                  'bob@nullmx-mail.net', 'josé@utf8-mail.net', 'nobody@postfix-mail.net']) AS a
CROSS JOIN LATERAL mailsentry.cached_result(a) r ORDER BY 1;
SELECT 'every cache row read by cached_result',
       bool_and((mailsentry.cached_result(address)).cached)::text FROM mailsentry.cache;
SQL
)

# What both databases do after the restore (the source after the dump), and
# what the restored one must answer.
actions_sql=$(cat <<'SQL'
CREATE FUNCTION pg_temp.outcome(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  RETURN 'rejected ' || SQLSTATE;
END
$$;
SELECT 'bad address into the domain column',
       pg_temp.outcome($q$INSERT INTO customers (name, email) VALUES ('Mallory', 'mallory@@acme-widgets.com')$q$);
SELECT 'bad address cast to the domain', pg_temp.outcome($q$SELECT 'no-at-sign.example.com'::email_address$q$);
SELECT 'bad address into the CHECK column', pg_temp.outcome($q$INSERT INTO signups (email) VALUES ('not an address')$q$);
SELECT 'good address into the domain column',
       pg_temp.outcome($q$INSERT INTO customers (name, email) VALUES ('Zoe', 'zoe@acme-widgets.com')$q$);
SELECT 'duplicate normalized address', pg_temp.outcome($q$INSERT INTO customers (name, email) VALUES ('Ann again', 'ann@POSTFIX-mail.net')$q$);
INSERT INTO signups (email) VALUES ('help@throwaway-acme.com'), ('orders@acme-widgets.com'),
                                   ('lee@postfix-mail.net')
  RETURNING 'trigger filled ' || email, id || ' ' || coalesce(verdict, '(null)') || ' ' || normalized;
SELECT 'trigger verdicts agree with email_check_offline',
       bool_and(verdict IS NOT DISTINCT FROM (email_check_offline(email)).verdict)::text FROM signups;
REFRESH MATERIALIZED VIEW signup_scores;
SELECT 'signup_scores after refresh', md5(string_agg(s::text, E'\n' ORDER BY s::text)) FROM signup_scores s;

SELECT max(job_id) AS restored_max_job FROM mailsentry.job_queue \gset
SELECT mailsentry.submit(ARRAY['new@acme-widgets.com', 'ann@postfix-mail.net']) AS new_job \gset
SELECT 'new job id', :new_job;
SELECT 'new job id above the restored ones', (:new_job > :restored_max_job)::text;
SELECT 'new job', state || ' ' || total FROM mailsentry.job_queue WHERE job_id = :new_job;
SELECT 'new job items', string_agg(item || ':' || email || ':' || coalesce(verdict, '-'), ' ' ORDER BY item)
FROM mailsentry.job_items WHERE job_id = :new_job;
SELECT mailsentry.cancel(4)::text AS cancelled \gset
SELECT 'cancel the queued job', :'cancelled' || ' ' || state FROM mailsentry.job_queue WHERE job_id = 4;

INSERT INTO mailsentry.list_overrides (list_name, entry, reason) VALUES ('disposable', 'acme-widgets.com', 'after restore');
SELECT 'list override added after the restore', (email_check_offline('zoe@acme-widgets.com')).is_disposable::text;
UPDATE mailsentry.weight_overrides SET points = 10 WHERE name = 'role_address';
SELECT 'weight override changed after the restore', (email_check_offline('sales@acme-widgets.com')).score::text;

-- cached_result reads the cache as last committed: forget in a statement of its own.
SELECT mailsentry.forget('ann@postfix-mail.net')::text AS forgot \gset
SELECT 'forget a cached address', :'forgot' || ', cached now '
       || (mailsentry.cached_result('ann@postfix-mail.net')).cached::text;
SELECT 'purge expired cache rows', mailsentry.purge_cache(true)::text;
SELECT 'cache rows left', count(*)::text FROM mailsentry.cache;
SELECT 'job items left', count(*)::text FROM mailsentry.job_items;
SQL
)

for side in src dst; do
  "use_$side"
  app_sql -v override_probes="$override_probes" -v other_probes="$other_probes" \
    >"$WORK_DIR/$side-fingerprint.txt" 2>"$WORK_DIR/$side-fingerprint.err" <<<"$fingerprint_sql" ||
    abort "reading the $side database" "$WORK_DIR/$side-fingerprint.err"
done
for side in src dst; do
  "use_$side"
  app_sql >"$WORK_DIR/$side-actions.txt" 2>"$WORK_DIR/$side-actions.err" <<<"$actions_sql" ||
    abort "using the $side database after the restore" "$WORK_DIR/$side-actions.err"
done

# The labels whose values differ between two "label<TAB>value" files, or that
# only one of them has.
differing_labels() {
  awk -F'\t' '
    NR == FNR { a[$1] = substr($0, length($1) + 2); next }
    { b[$1] = substr($0, length($1) + 2) }
    END {
      for (k in a) if (!(k in b)) print k " (missing after restore)"; else if (a[k] != b[k]) print k
      for (k in b) if (!(k in a)) print k " (only after restore)"
    }' "$1" "$2" | LC_ALL=C sort
}
value_of() { awk -F'\t' -v k="$2" '$1 == k { print substr($0, length($1) + 2) }' "$1"; }
# label, the value the restored database must show
expect() {
  local got
  got=$(value_of "$WORK_DIR/dst-actions.txt" "$1")
  [ -z "$got" ] && got=$(value_of "$WORK_DIR/dst-fingerprint.txt" "$1")
  [ "$got" = "$2" ] || problems+=("$1: '$got', expected '$2'")
}

for kind in fingerprint actions; do
  while IFS= read -r label; do
    problems+=("$label differs")
    {
      echo "--- $label"
      echo "source:   $(value_of "$WORK_DIR/src-$kind.txt" "${label% (*}")"
      echo "restored: $(value_of "$WORK_DIR/dst-$kind.txt" "${label% (*}")"
    } >&2
  done < <(differing_labels "$WORK_DIR/src-$kind.txt" "$WORK_DIR/dst-$kind.txt")
done

# The restored database, on its own terms (the source could be wrong too).
for table in public.customers public.signups public.verification_log mailsentry.cache \
  mailsentry.domains mailsentry.list_overrides mailsentry.weight_overrides \
  mailsentry.job_queue mailsentry.job_items; do
  rows=$(value_of "$WORK_DIR/dst-fingerprint.txt" "rows of ${table#public.}")
  case $rows in
    ''|'0 rows'*) problems+=("no rows in $table after restore") ;;
  esac
done
expect "extension config tables" "mailsentry.cache [], mailsentry.domains [], mailsentry.job_items [], mailsentry.job_queue [], mailsentry.job_queue_job_id_seq [], mailsentry.list_overrides [], mailsentry.weight_overrides []"
expect "overridden weights" "dead_domain=95, disposable=60, role_address=80"
expect "every cache row read by cached_result" "true"
expect "bad address into the domain column" "rejected 23514"
expect "bad address cast to the domain" "rejected 23514"
expect "bad address into the CHECK column" "rejected 23514"
expect "good address into the domain column" "accepted"
expect "duplicate normalized address" "rejected 23505"
expect "trigger verdicts agree with email_check_offline" "true"
expect "new job id above the restored ones" "true"
expect "new job id" "5"
expect "cancel the queued job" "true cancelled"
expect "list override added after the restore" "true"
expect "forget a cached address" "true, cached now false"
expect "purge expired cache rows" "1"
if grep -P '^trigger filled [^\t]*\t\S+ \(null\)' "$WORK_DIR/dst-actions.txt" >/dev/null; then
  problems+=("the trigger left a verdict NULL after restore")
fi
if [ "$(grep -c '^trigger filled ' "$WORK_DIR/dst-actions.txt")" -ne 3 ]; then
  problems+=("the inserts into signups after restore did not return 3 rows")
fi

finish
