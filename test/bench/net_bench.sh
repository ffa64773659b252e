#!/usr/bin/env bash
# Network benchmarks of verify_email() against the local servers of
# test/integration/servers.sh (loopback only). Run as root after make install:
#   bash test/bench/net_bench.sh
# 1. the time verify_email adds over a bare SMTP probe of the same Postfix;
# 2. 20 backends verifying at once (pgbench): throughput and errors;
# 3. a tarpitted domain: one address against the configured schedule, and
#    50 addresses there.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/as_root.sh
source scripts/temp_cluster.sh
TEMP_CLUSTER_PORT=54392
N=${N:-300}

bash test/integration/servers.sh start >/dev/null
mapfile -t local_servers < <(grep -v '^\s*#' test/integration/pg.conf | grep -v '^\s*$' |
  grep -v 'mailsentry.database\|shared_preload_libraries\|log_smtp_transcripts')
temp_cluster_start "mailsentry.database = 'postgres'" "max_connections = 100" \
  "mailsentry.domain_age = off" "mailsentry.dnsbl_zones = ''" "${local_servers[@]}"
stop_all() { temp_cluster_stop; bash test/integration/servers.sh stop >/dev/null; }
trap stop_all EXIT
temp_psql -q -c "CREATE EXTENSION mailsentry"

echo "== 1. verify_email overhead over a bare SMTP probe ($N addresses, Postfix on 127.0.0.25)"
bare=$(python3 test/bench/bare_smtp_probe.py 127.0.0.25 "$N")
temp_psql -Atq <<SQL >/tmp/mailsentry-bench-verify.txt
SELECT verify_email('alice@postfix-mail.net');  -- warms the DNS cache and the session
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v.response_time_ms)
FROM generate_series(1, $N) i,
     LATERAL verify_email((ARRAY['alice','bob','carol'])[1 + i % 3] || '@postfix-mail.net') v;
SQL
verify=$(tail -n 1 /tmp/mailsentry-bench-verify.txt)
echo "bare SMTP probe median:   ${bare} ms"
echo "verify_email median:      ${verify} ms"
echo "added by verify_email:    $(echo "$verify - $bare" | bc -l | xargs printf '%.3f') ms (target <= 2 ms)"

echo
echo "== 2. 20 backends at once (pgbench, 20 clients x 10 verifications, Postfix)"
cat >/tmp/mailsentry-bench.pgbench <<'PGB'
\set user random(1, 3)
SELECT (verify_email((ARRAY['alice','bob','carol'])[:user] || '@postfix-mail.net')).smtp_valid;
PGB
chmod 644 /tmp/mailsentry-bench.pgbench
as_postgres pgbench -n -h "$TEMP_CLUSTER_DIR" -p "$TEMP_CLUSTER_PORT" -c 20 -j 2 -t 10 \
  -f /tmp/mailsentry-bench.pgbench postgres 2>&1 | grep -E "processed|failed|latency average|tps"

echo
echo "== 3. a tarpitted domain (banner never sent; schedule 1.5 + 2.5 + 3.5 s = 7.5 s)"
temp_psql -Atq <<'SQL'
SELECT 'one address: ' || round(response_time_ms) || ' ms, smtp_valid ' || coalesce(smtp_valid::text, 'NULL')
FROM verify_email('first@tarpit-mail.net');
CREATE TEMP TABLE t AS SELECT clock_timestamp() AS started;
SELECT '50 more addresses, one after another: ' ||
       round(extract(epoch FROM clock_timestamp() - (SELECT started FROM t)) * 1000) || ' ms in all, '
       || count(*) FILTER (WHERE v.smtp_valid IS NULL) || ' inconclusive'
FROM generate_series(1, 50) i, LATERAL verify_email('user' || i || '@tarpit-mail.net') v;
SQL
