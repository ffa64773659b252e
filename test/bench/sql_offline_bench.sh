#!/usr/bin/env bash
# SQL throughput of email_check_offline and email_syntax_valid over a 1M-row
# table, each beside a baseline query over the same rows, in one run.
# JIT and parallel workers off; pg_stat_user_functions shows the call counts.
# Run as root: bash test/bench/sql_offline_bench.sh   (after make install)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/as_root.sh
source scripts/temp_cluster.sh
ROWS=${ROWS:-1000000}
temp_cluster_start "shared_buffers = '512MB'" "track_functions = 'all'"
cp data/names.txt "$TEMP_CLUSTER_DIR/names.txt"
chown postgres: "$TEMP_CLUSTER_DIR/names.txt"

temp_psql -q <<SQL
CREATE EXTENSION mailsentry;
CREATE TABLE names (n text);
COPY names FROM '$TEMP_CLUSTER_DIR/names.txt';
CREATE TABLE domains (d text);
INSERT INTO domains VALUES ('gmail.com'), ('yahoo.com'), ('hotmail.com'), ('outlook.com'),
  ('acme-widgets.com'), ('northwind.io'), ('contoso.co.uk'), ('fabrikam.de'), ('globex.com'),
  ('mailinator.com'), ('gmial.com'), ('bücher.de'), ('mail.initech.net'), ('web.de');
-- Hash joins on numbered names (indexing a 189k-element array per row is slow).
CREATE TABLE numbered_names AS SELECT row_number() OVER (ORDER BY n) AS id, n FROM names;
CREATE TABLE numbered_domains AS SELECT row_number() OVER (ORDER BY d) AS id, d FROM domains;
CREATE TABLE t AS
  SELECT CASE (i % 10)
           WHEN 0 THEN (array['info','sales','noreply','test','qwertyuiop','xq7z'])[(1 + i % 6)::int]
           WHEN 1 THEN n1.n || (1950 + i % 70)
           WHEN 2 THEN left(n1.n, 1) || n2.n
           ELSE n1.n || '.' || n2.n
         END || '@' || dm.d AS e
  FROM generate_series(1::bigint, $ROWS) i
  JOIN numbered_names n1 ON n1.id = 1 + (i * 7919) % (SELECT count(*) FROM names)
  JOIN numbered_names n2 ON n2.id = 1 + (i * 104729) % (SELECT count(*) FROM names)
  JOIN numbered_domains dm ON dm.id = 1 + (i * 31) % 14;
VACUUM ANALYZE t;
SQL

temp_psql <<'SQL'
SET jit = off;
SET max_parallel_workers_per_gather = 0;
CREATE FUNCTION pg_temp.time_ms(q text) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; best double precision := 'Infinity';
BEGIN
  FOR i IN 1..3 LOOP
    t0 := clock_timestamp();
    EXECUTE q;
    best := least(best, extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
  RETURN best;
END $$;
SELECT pg_stat_reset();
WITH q(name, sql) AS (VALUES
  ('baseline: count(*) WHERE e LIKE ''%@%''', 'SELECT count(*) FROM t WHERE e LIKE ''%@%'''),
  ('email_syntax_valid', 'SELECT count(*) FROM t WHERE email_syntax_valid(e)'),
  ('email_check_offline', 'SELECT sum(v.score) FROM t, LATERAL email_check_offline(t.e) v'))
SELECT name, round(ms::numeric, 1) AS best_of_3_ms,
       round((SELECT count(*) FROM t) / (ms / 1000))::bigint AS rows_per_s
FROM (SELECT name, pg_temp.time_ms(sql) AS ms FROM q) r;
SELECT pg_sleep(0.6);  -- let the statistics collector catch up
SELECT funcname, calls FROM pg_stat_user_functions
WHERE funcname IN ('email_syntax_valid', 'email_check_offline') ORDER BY 1;
SQL
