#!/usr/bin/env bash
# What a new user gets: verify_emails() with DEFAULT settings over 5,000
# addresses at a REAL Postfix with its default error limits, a real dnsmasq
# and an RDAP registry that cannot be reached. Run as root after make install
# (or: make bench-postfix):
#   bash test/bench/postfix_bulk_bench.sh
#
# Its own servers on loopback only (never those of test/integration/servers.sh):
#   127.0.0.157:25   Postfix 3.7 (its own instance, config written below from the
#                    suite's test/integration/postfix/): virtual mailbox domains
#                    <prefix>-store-01..50.net, a vmailbox map generated here;
#                    60% of the addresses exist (250 2.1.5), the others get
#                    550 5.1.1 at RCPT time. Error limits, anvil limits and
#                    everything else at Postfix's defaults, except what is listed
#                    under "Postfix settings that are not its defaults" below.
#   127.0.0.158:53   dnsmasq: the 50 domains of each run, all with the ONE MX host
#                    mx.bench-postfix.net (127.0.0.157); rdap.bench-registry.net
#                    (127.0.0.159)
#   127.0.0.159:443  the RDAP registry of .net according to the bootstrap file
#                    given to mailsentry: RDAP_MODE=refused (default) nothing
#                    listens, connections are refused at once; RDAP_MODE=blackhole
#                    a socket that never accepts, so its backlog stays full and
#                    the kernel drops further SYNs (connections time out).
#                    No WHOIS server is configured: a failed RDAP lookup falls
#                    back to IANA's WHOIS referral, whose name the bench's
#                    dnsmasq does not know (nothing leaves loopback).
#   a throwaway cluster on port 54394 (scripts/temp_cluster.sh)
#
# Workload: N (5,000) addresses over 50 domains, 60% existing, in ONE
# `verify_emails(array)` call per run; a fresh random domain prefix per run, so
# no DNS answer, catch-all verdict or registration date is remembered from an
# earlier run; the cache is purged before each run, and the cluster restarted
# before run (b) (which also applies its setting).
#   (a) every mailsentry setting at its default, except those the test
#       environment forces (printed): mailsentry.dns_servers (the local
#       dnsmasq), mailsentry.allow_private_networks = on (the servers are on
#       loopback), mailsentry.rdap_bootstrap_file (so that RDAP traffic stays on
#       loopback: the shipped bootstrap names the real registries).
#       mailsentry.smtp_port is not set: Postfix listens on port 25.
#   (b) the same with mailsentry.domain_age = off;
#   (c) the bench's own minimal client (test/bench/minimal_probe_client.py):
#       one SMTP connection per address (connect, banner, EHLO, MAIL FROM,
#       RCPT TO, QUIT), PARALLEL (8) at once, over run (b)'s 5,000 addresses,
#       straight to the Postfix address (no DNS).
# Each run prints its wall time, addresses/s, counts by smtp_valid, verdict and
# verification level, how many answers were inconclusive (smtp_valid NULL) with
# their warnings, and Postfix's own counts for the run (from its log). A final
# block sums up the three runs for BENCHMARKS.md.
#
# Exit status: 0 when the three runs completed (inconclusive or wrong answers
# of mailsentry are results, printed, not failures); 1 when a server did not
# come up, a run did not return a row for every address, or the minimal client
# got an answer that contradicts the vmailbox map (the bench itself is broken),
# or the installed mailsentry.so was replaced during the runs.
#
# Environment: N, PARALLEL, RDAP_MODE (refused|blackhole), IN_FLOW_DELAY (the
# Postfix in_flow_delay, default 0: see postfix_write_main in
# test/integration/postfix_lib.sh), RUN_TIMEOUT (seconds a
# run may take before it is cancelled, default 600), SERVERS_ONLY=1 (start and
# check the servers, run the minimal client on a few addresses, no PostgreSQL),
# KEEP_STATE=1 (keep the state directory with the Postfix log).
set -euo pipefail
BENCH_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_HERE/../.." && pwd)
source "$ROOT/scripts/as_root.sh"
source "$ROOT/scripts/temp_cluster.sh"
source "$ROOT/test/bench/bench_servers.sh"
source "$ROOT/test/integration/postfix_lib.sh"
# Nothing runs as postgres with the source tree (or /root) as its directory.
cd /tmp

# shellcheck disable=SC2034  # read by scripts/temp_cluster.sh
TEMP_CLUSTER_PORT=54394
N=${N:-5000}
DOMAINS=50
PARALLEL=${PARALLEL:-8}
RDAP_MODE=${RDAP_MODE:-refused}
IN_FLOW_DELAY=${IN_FLOW_DELAY:-0}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}
POSTFIX_IP=127.0.0.157 DNS_IP=127.0.0.158 RDAP_IP=127.0.0.159
MX_HOST=mx.bench-postfix.net RDAP_HOST=rdap.bench-registry.net
# The command line that reproduces this run (non-default parameters only).
COMMAND="bash test/bench/postfix_bulk_bench.sh"
[[ $IN_FLOW_DELAY == 0 ]] || COMMAND="IN_FLOW_DELAY=$IN_FLOW_DELAY $COMMAND"
[[ $RDAP_MODE == refused ]] || COMMAND="RDAP_MODE=$RDAP_MODE $COMMAND"
[[ $PARALLEL == 8 ]] || COMMAND="PARALLEL=$PARALLEL $COMMAND"
[[ $N == 5000 ]] || COMMAND="N=$N $COMMAND"
if ! [[ $N =~ ^[0-9]+$ ]] || ((N < DOMAINS)); then bench_fail "N must be a number >= $DOMAINS"; fi
if ! [[ $PARALLEL =~ ^[1-9][0-9]*$ ]]; then bench_fail "PARALLEL must be a positive number"; fi
if ! [[ $RUN_TIMEOUT =~ ^[1-9][0-9]*$ ]]; then bench_fail "RUN_TIMEOUT must be a number of seconds"; fi
[[ $RDAP_MODE == refused || $RDAP_MODE == blackhole ]] || bench_fail "RDAP_MODE must be refused or blackhole"
for ip in "$POSTFIX_IP" "$DNS_IP" "$RDAP_IP"; do bench_check_ip "$ip"; done

bench_servers_init postfix-bulk
POSTFIX_CONF=$(postfix_conf "$BENCH_STATE")
POSTFIX_STARTED=""
status=0

# ---- Postfix ----------------------------------------------------------------

# The instance: test/integration/postfix_lib.sh (its files in $BENCH_STATE).
# shellcheck disable=SC2317  # run by the EXIT trap
stop_postfix() {
  [[ -n $POSTFIX_STARTED ]] || return 0
  postfix_stop "$BENCH_STATE" 50
  POSTFIX_STARTED=""
}

# The suite's Postfix (test/integration/postfix/) on another address, with the
# generated domains and mailboxes, and Postfix's defaults elsewhere; written
# by postfix_write_main, which says why in_flow_delay is not the default.
start_postfix() {
  "${BENCH_PROBE[@]}" refused "$POSTFIX_IP" >/dev/null ||
    bench_fail "something already listens on $POSTFIX_IP:25 (another benchmark running?)"
  postfix_dirs "$BENCH_STATE"
  postfix_write_main "$BENCH_STATE" "$POSTFIX_IP" "$MX_HOST" postfix-mailsentry-bench benchmark "$IN_FLOW_DELAY"
  postfix_write_master "$BENCH_STATE" "$POSTFIX_IP"
  postfix_maps "$BENCH_STATE" "$BENCH_STATE/vdomains" "$BENCH_STATE/vmailbox"
  postfix_check "$BENCH_STATE" || bench_fail "postfix check failed (see above)"
  POSTFIX_STARTED=1
  postfix_start "$BENCH_STATE" || bench_fail "postfix did not start (see above)"
}

# Lines in Postfix's log so far (the log is created by postlogd).
postfix_log_lines() { if [[ -f $BENCH_STATE/postfix.log ]]; then bench_lines "$BENCH_STATE/postfix.log"; else echo 0; fi; }

# postfix_counts FROM_LINE: what Postfix logged after FROM_LINE, once every
# connection opened there has ended (idle sessions close after
# mailsentry.idle_session_timeout, 5 s; waits at most 15 s).
postfix_counts() {
  local from=$1 i
  for ((i = 0; i < 150; i++)); do
    "$BENCH_PYTHON" - "$BENCH_STATE/postfix.log" "$from" check <<'PY' && break
import re, sys
path, start = sys.argv[1], int(sys.argv[2])
with open(path, encoding="utf-8", errors="replace") as f:
    lines = f.readlines()[start:]
connects = sum(1 for l in lines if re.search(r"smtpd\[\d+\]: connect from ", l))
disconnects = sum(1 for l in lines if re.search(r"smtpd\[\d+\]: disconnect from ", l))
sys.exit(0 if connects == disconnects else 1)
PY
    sleep 0.1
  done
  "$BENCH_PYTHON" - "$BENCH_STATE/postfix.log" "$from" <<'PY'
import collections, re, sys
path, start = sys.argv[1], int(sys.argv[2])
with open(path, encoding="utf-8", errors="replace") as f:
    lines = f.readlines()[start:]
counts = collections.Counter()
for line in lines:
    if re.search(r"smtpd\[\d+\]: connect from ", line):
        counts["connections"] += 1
    elif "too many errors after" in line:
        counts["hard_error_limit_hangups"] += 1
    elif re.search(r"smtpd\[\d+\]: disconnect from ", line):
        counts["disconnects"] += 1
        for name, good, total in re.findall(r" (mail|rcpt|rset)=(\d+)(?:/(\d+))?", line):
            counts[f"{name}_ok"] += int(good)
            counts[f"{name}_total"] += int(total or good)
    elif "warning" in line and "smtpd" in line:
        counts["smtpd_warnings"] += 1
print(f"connections={counts['connections']} MAIL FROM={counts['mail_total']} "
      f"RCPT={counts['rcpt_total']} (accepted {counts['rcpt_ok']}, rejected "
      f"{counts['rcpt_total'] - counts['rcpt_ok']}) RSET={counts['rset_total']} "
      f"hangups at smtpd_hard_error_limit={counts['hard_error_limit_hangups']} "
      f"smtpd warnings={counts['smtpd_warnings']}")
PY
}

# ---- Cleanup ------------------------------------------------------------------

# shellcheck disable=SC2317  # run by the EXIT trap
stop_all() {
  temp_cluster_stop
  stop_postfix
  bench_servers_stop
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- Addresses, DNS records, mailboxes, RDAP bootstrap --------------------------

# <name>.<i>@<prefix>-store-<01..50>.net, i = 1..N; address i exists when
# (i / 50) % 5 < 3 (60% of each domain). One fresh random prefix per run.
"$BENCH_PYTHON" - "$BENCH_STATE" "$N" "$DOMAINS" "$POSTFIX_IP" "$RDAP_IP" "$MX_HOST" "$RDAP_HOST" <<'PY'
import json, secrets, sys
state, n, domains, postfix_ip, rdap_ip, mx_host, rdap_host = sys.argv[1:]
n, domains = int(n), int(domains)
NAMES = ["anna", "bruno", "carla", "david", "elena", "felix", "greta", "hugo", "irene", "jonas"]
prefixes = {run: f"pf{run}{secrets.token_hex(3)}" for run in ("a", "b", "e")}
zones = [f"host-record={mx_host},{postfix_ip}", f"host-record={rdap_host},{rdap_ip}"]
vdomains, vmailbox, table = [], [], []
for run, prefix in prefixes.items():
    for d in range(1, domains + 1):
        domain = f"{prefix}-store-{d:02d}.net"
        zones.append(f"mx-host={domain},{mx_host},10")
        vdomains.append(domain)
    with open(f"{state}/addresses-{run}.tsv", "w", encoding="utf-8") as f:
        # Run e: the first address at each of its domains (single calls).
        for i in range(1, (domains if run == "e" else n) + 1):
            local = f"{NAMES[i % 10]}.{i}"
            domain = f"{prefix}-store-{1 + i % domains:02d}.net"
            exists = (i // domains) % 5 < 3
            f.write(f"{local}@{domain}\t{int(exists)}\n")
            table.append(f"{run}\t{i}\t{local}@{domain}\t{'t' if exists else 'f'}")
            if exists:
                vmailbox.append(f"{local}@{domain}\t{domain}/{local}/")
for name, lines in (("zones.conf", zones), ("vdomains", vdomains), ("vmailbox", vmailbox),
                    ("addresses.tsv", table)):
    with open(f"{state}/{name}", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
with open(f"{state}/rdap_dns.json", "w", encoding="utf-8") as f:
    json.dump({"version": "1.0", "publication": "2026-01-01T00:00:00Z",
               "description": "postfix_bulk_bench: .net at an RDAP server that cannot be reached",
               "services": [[["net"], [f"https://{rdap_host}/"]]]}, f)
with open(f"{state}/prefixes", "w", encoding="utf-8") as f:
    f.write(f"{prefixes['a']} {prefixes['b']} {prefixes['e']}\n")
PY
read -r PREFIX_A PREFIX_B PREFIX_E <"$BENCH_STATE/prefixes"
# Samples for the readiness checks: address 1 exists, address 150 does not.
SAMPLE_OK=$(sed -n 1p "$BENCH_STATE/addresses-a.tsv" | cut -f1)
SAMPLE_NO=$(sed -n 150p "$BENCH_STATE/addresses-a.tsv" | cut -f1)

# ---- Servers --------------------------------------------------------------------

"${BENCH_PROBE[@]}" refused "$RDAP_IP" --port 443 >/dev/null ||
  bench_fail "something already listens on $RDAP_IP:443 (another benchmark running?)"
start_postfix
bench_start_dns "$DNS_IP" "$BENCH_STATE/zones.conf"
rdap_check="rdap-dead refused $RDAP_IP --port 443"
if [[ $RDAP_MODE == blackhole ]]; then
  # Listens with a backlog of 0 and never accepts: the first connection fills
  # the queue (and is never answered), the kernel drops every later SYN.
  bench_spawn rdap-blackhole "$BENCH_PYTHON" -c '
import signal, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 443))
s.listen(0)
signal.sigwait([signal.SIGTERM, signal.SIGINT])' "$RDAP_IP"
  rdap_check="rdap-blackhole silent $RDAP_IP --port 443 --quiet-ms 300"
fi
bench_wait_ready \
  "dnsmasq dns $PREFIX_A-store-07.net MX --server $DNS_IP --answer '10 $MX_HOST'" \
  "dnsmasq dns $PREFIX_B-store-50.net MX --server $DNS_IP --answer '10 $MX_HOST'" \
  "dnsmasq dns $MX_HOST A --server $DNS_IP --answer $POSTFIX_IP" \
  "dnsmasq dns $RDAP_HOST A --server $DNS_IP --answer $RDAP_IP" \
  "dnsmasq dns unknown-store.net MX --server $DNS_IP --rcode NXDOMAIN" \
  "postfix rcpt $POSTFIX_IP $SAMPLE_OK=250/2.1.5 $SAMPLE_NO=550/5.1.1 --helo localhost --mail-from '' --timeout 5" \
  "$rdap_check"
postfix_master_pid "$BENCH_STATE" >/dev/null || bench_fail "Postfix answers but wrote no master.pid"

postfix_settings() {
  postconf -c "$POSTFIX_CONF" -xh "$@" | paste -sd' ' | sed 's/  */ /g'
}
pf_limits=$(for p in smtpd_soft_error_limit smtpd_hard_error_limit smtpd_error_sleep_time \
  smtpd_junk_command_limit smtpd_client_connection_count_limit smtpd_client_connection_rate_limit \
  smtpd_client_recipient_rate_limit default_process_limit in_flow_delay; do
  echo "$p = $(postconf -c "$POSTFIX_CONF" -xh "$p")"
done | paste -sd';' | sed 's/;/; /g')
pf_nondefault=$(postconf -c "$POSTFIX_CONF" -n | grep -E '^(in_flow_delay|mynetworks|smtpd_peername_lookup|smtpd_tls_security_level) ' |
  paste -sd';' | sed 's/;/; /g')

if [[ -n ${SERVERS_ONLY:-} ]]; then
  # 10 that exist, 10 that do not.
  sed -n '1,10p; 151,160p' "$BENCH_STATE/addresses-b.tsv" >"$BENCH_STATE/sample.tsv"
  echo "Postfix limits: $pf_limits"
  "$BENCH_PYTHON" "$BENCH_HERE/minimal_probe_client.py" "$POSTFIX_IP" \
    --addresses "$BENCH_STATE/sample.tsv" --parallel "$PARALLEL" || status=1
  echo "SERVERS_ONLY: servers started, checked and stopped (state dir $BENCH_STATE)"
  exit "$status"
fi

# ---- The cluster ------------------------------------------------------------------

# What is measured is the INSTALLED library, not the source tree: its date and
# checksum go into the summary; a change during the runs is reported.
LIBRARY=$(pg_config --pkglibdir)/mailsentry.so
library_id() { echo "$(date -u -r "$LIBRARY" '+%Y-%m-%d %H:%M:%S UTC'), sha256 $(sha256sum "$LIBRARY" | cut -c1-12)"; }
[[ -f $LIBRARY ]] || bench_fail "$LIBRARY is not installed (make install)"
LIBRARY_ID=$(library_id)

# The only mailsentry settings that are not defaults: what the environment forces.
FORCED=(
  "mailsentry.dns_servers = '$DNS_IP'"
  "mailsentry.allow_private_networks = on"
  "mailsentry.rdap_bootstrap_file = '$BENCH_STATE/rdap_dns.json'"
)
temp_cluster_start "${FORCED[@]}"
trap stop_all EXIT  # temp_cluster_start set its own

# Waits until the worker is connected to its database (after a start or restart).
wait_for_worker() {
  local i
  for ((i = 0; i < 300; i++)); do
    if [[ $(temp_psql -Atq -c "SELECT count(*) FROM pg_stat_activity
                               WHERE backend_type = 'mailsentry worker' AND datname IS NOT NULL") -ge 1 ]]; then
      return 0
    fi
    sleep 0.1
  done
  bench_fail "the mailsentry worker did not start within 30 s (see $TEMP_CLUSTER_DIR/server.log)"
}

temp_cluster_restart() {
  as_postgres "$TEMP_CLUSTER_BIN/pg_ctl" -D "$TEMP_CLUSTER_DIR/data" \
    -l "$TEMP_CLUSTER_DIR/server.log" -m fast -w -t 60 restart >/dev/null ||
    bench_fail "the cluster did not restart (see $TEMP_CLUSTER_DIR/server.log)"
}

wait_for_worker
temp_psql -q <<SQL
CREATE EXTENSION mailsentry;
CREATE TABLE addrs (run text, i int, email text, expect_valid boolean, PRIMARY KEY (run, i));
\copy addrs FROM '$BENCH_STATE/addresses.tsv'
CREATE INDEX ON addrs (email);

-- ONE verify_emails() call over a run's addresses; everything printed comes
-- from that call's result (the CTE), the time from around that statement.
CREATE FUNCTION bench_run(r text) RETURNS TABLE (seconds numeric, n bigint, valid bigint,
    invalid bigint, unknown bigint, wrong bigint, verdicts text, levels text,
    inconclusive_warnings text, warnings text, issues text)
LANGUAGE plpgsql AS \$\$
DECLARE
  emails text[] := ARRAY(SELECT email FROM addrs WHERE run = r ORDER BY i);
  t0 timestamptz;
BEGIN
  t0 := clock_timestamp();
  WITH v AS MATERIALIZED (
    SELECT x.*, a.expect_valid FROM verify_emails(emails) x LEFT JOIN addrs a ON a.run = r AND a.email = x.email)
  SELECT count(*), count(*) FILTER (WHERE v.smtp_valid), count(*) FILTER (WHERE NOT v.smtp_valid),
         count(*) FILTER (WHERE v.smtp_valid IS NULL),
         count(*) FILTER (WHERE v.smtp_valid IS DISTINCT FROM v.expect_valid),
         (SELECT string_agg(k || ' ' || c, ', ' ORDER BY c DESC, k)
            FROM (SELECT coalesce(verdict, 'NULL') k, count(*) c FROM v GROUP BY 1) g),
         (SELECT string_agg(k || ' ' || c, ', ' ORDER BY c DESC, k)
            FROM (SELECT coalesce(verification_level, 'NULL') k, count(*) c FROM v GROUP BY 1) g),
         (SELECT string_agg(c || ' x ' || k, ' | ' ORDER BY c DESC, k)
            FROM (SELECT coalesce(warning, '(no warning)') k, count(*) c FROM v
                  WHERE smtp_valid IS NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 5) g),
         (SELECT string_agg(c || ' x ' || k, ' | ' ORDER BY c DESC, k)
            FROM (SELECT coalesce(warning, '(no warning)') k, count(*) c FROM v
                  GROUP BY 1 ORDER BY 2 DESC LIMIT 3) g),
         (SELECT string_agg(c || ' x ' || k, ' | ' ORDER BY c DESC, k)
            FROM (SELECT k, count(*) c FROM v, unnest(v.issues) k GROUP BY 1 ORDER BY 2 DESC LIMIT 3) g)
    INTO n, valid, invalid, unknown, wrong, verdicts, levels, inconclusive_warnings, warnings, issues
    FROM v;
  seconds := round(extract(epoch FROM clock_timestamp() - t0)::numeric, 2);
  RETURN NEXT;
END \$\$;

-- One verify_email() per address of a run's items first..last, each call
-- timed on its own (what a query, a trigger or a CHECK pays per row).
CREATE FUNCTION bench_single(r text, first int, last int, fresh boolean, OUT calls int,
    OUT median_ms numeric, OUT mean_ms numeric, OUT p90_ms numeric, OUT confirmed int)
LANGUAGE plpgsql AS \$\$
DECLARE
  a record;
  t0 timestamptz;
  ms float8[] := '{}';
  v email_verification;
BEGIN
  confirmed := 0;
  FOR a IN SELECT email FROM addrs WHERE run = r AND i BETWEEN first AND last ORDER BY i LOOP
    t0 := clock_timestamp();
    v := verify_email(a.email, refresh => fresh);
    ms := ms || extract(epoch FROM clock_timestamp() - t0)::float8 * 1000;
    IF v.verification_level = 'confirmed' THEN confirmed := confirmed + 1; END IF;
  END LOOP;
  calls := cardinality(ms);
  SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 3), round(avg(x)::numeric, 3),
         round(percentile_cont(0.9) WITHIN GROUP (ORDER BY x)::numeric, 3)
    INTO median_ms, mean_ms, p90_ms FROM unnest(ms) x;
END \$\$;
SQL

expect_valid=$(temp_psql -Atq -c "SELECT count(*) FILTER (WHERE expect_valid) FROM addrs WHERE run = 'a'")
expect_invalid=$((N - expect_valid))

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== postfix_bulk_bench: $N addresses over $DOMAINS domains, all with ONE MX ($MX_HOST = $POSTFIX_IP," \
  "Postfix $(postconf -c "$POSTFIX_CONF" -h mail_version)); $expect_valid exist, $expect_invalid get 550 5.1.1"
echo "Postfix limits (defaults unless listed below): $pf_limits"
echo "Postfix settings that are not its defaults and matter here: $pf_nondefault" \
  "(mynetworks: the probing clients are outside clients, as for a real server)"
if [[ $IN_FLOW_DELAY == 0 ]]; then
  echo "NOTE: in_flow_delay = 0, not Postfix's default 1s: probes never queue a message, so qmgr never" \
    "refills Postfix's flow-control tokens and, after the first ~100 transactions, every MAIL FROM would" \
    "wait 1 s; that measures this idle Postfix, not the probing (a server delivering mail refills them)." \
    "IN_FLOW_DELAY=1s runs with the default."
fi
echo "RDAP: the bootstrap maps .net to https://$RDAP_HOST/ ($RDAP_IP:443):" \
  "$(if [[ $RDAP_MODE == refused ]]; then echo "nothing listens (connection refused)"; else echo "SYNs dropped (connections time out)"; fi);" \
  "no WHOIS server configured (the fallback to IANA's referral cannot resolve it)"

# run_bulk <run> <label>: one verify_emails() call; prints its figures and sets
# RUN_SECONDS, RUN_RATE, RUN_ANSWERS, RUN_POSTFIX.
run_bulk() {
  local run=$1 label=$2 from row seconds n valid invalid unknown wrong verdicts levels inconclusive warnings issues
  echo
  echo "== $label"
  temp_psql -Atq -c "SELECT 'mailsentry settings not at their default: ' ||
                       string_agg(name || ' = ' || setting, ', ' ORDER BY name)
                     FROM pg_settings WHERE name LIKE 'mailsentry.%' AND source NOT IN ('default', 'override')"
  temp_psql -Atq -c "SELECT 'cache purged: ' || mailsentry.purge_cache() || ' rows'"
  from=$(postfix_log_lines)
  # Fields separated by US (0x1f): unlike a tab, it does not merge empty fields.
  row=$(temp_psql -Atq -F $'\x1f' -c "SET statement_timeout = '${RUN_TIMEOUT}s'" -c "SELECT * FROM bench_run('$run')") ||
    bench_fail "run $run: verify_emails did not finish (RUN_TIMEOUT ${RUN_TIMEOUT}s?)"
  IFS=$'\x1f' read -r seconds n valid invalid unknown wrong verdicts levels inconclusive warnings issues <<<"$row"
  [[ $n == "$N" ]] || { echo "FAILED: $n rows for $N addresses" >&2; status=1; }
  RUN_SECONDS=$seconds
  RUN_RATE=$(bench_calc "$n / $seconds" 1)
  RUN_ANSWERS="$valid exist / $invalid do not / $unknown inconclusive; $wrong differ from the vmailbox map"
  echo "verify_emails(ARRAY[$N addresses]): ${seconds} s, ${RUN_RATE} addresses/s"
  echo "rows $n; smtp_valid true $valid, false $invalid, NULL (inconclusive) $unknown" \
    "(expected $expect_valid / $expect_invalid / 0); $wrong rows differ from the vmailbox map"
  echo "verdicts: $verdicts"
  echo "levels: $levels"
  if ((unknown > 0)); then
    echo "warnings of the inconclusive answers (most frequent first): $inconclusive"
  fi
  echo "warnings, all rows (top 3): ${warnings:-none}"
  echo "issues, all rows (top 3): ${issues:-none}"
  RUN_POSTFIX=$(postfix_counts "$from")
  echo "Postfix for this run: $RUN_POSTFIX"
}

# (a) Defaults.
run_bulk a "(a) verify_emails, every mailsentry setting at its default (domains $PREFIX_A-store-01..50.net)"
A_SECONDS=$RUN_SECONDS A_RATE=$RUN_RATE A_ANSWERS=$RUN_ANSWERS A_POSTFIX=$RUN_POSTFIX

# (d)-(g) Single calls, still with every setting at its default.
SINGLE=${SINGLE:-200}
echo
echo "== (d) verify_email, one call at a time: $SINGLE new probes (refresh => true) at run (a)'s domains" \
  "(MX answers and catch-all status known, sessions pooled)"
IFS='|' read -r D_CALLS D_MEDIAN D_MEAN D_P90 D_CONFIRMED < <(temp_psql -Atq -c "SET client_min_messages = warning" \
  -c "SELECT * FROM bench_single('a', 1, $SINGLE, true)")
echo "calls $D_CALLS: median $D_MEDIAN ms, mean $D_MEAN ms, p90 $D_P90 ms; confirmed $D_CONFIRMED"
echo
echo "== (e) verify_email, the first address at each of $DOMAINS new domains (MX lookup, catch-all probe)"
IFS='|' read -r E_CALLS E_MEDIAN E_MEAN E_P90 E_CONFIRMED < <(temp_psql -Atq -c "SET client_min_messages = warning" \
  -c "SELECT * FROM bench_single('e', 1, $DOMAINS, false)")
echo "calls $E_CALLS: median $E_MEDIAN ms, mean $E_MEAN ms, p90 $E_P90 ms; confirmed $E_CONFIRMED"
echo
echo "== (f) the bare probe: the minimal client, ONE at a time, over (d)'s addresses"
head -n "$SINGLE" "$BENCH_STATE/addresses-a.tsv" >"$BENCH_STATE/single.tsv"
bare_out=$("$BENCH_PYTHON" "$BENCH_HERE/minimal_probe_client.py" "$POSTFIX_IP" \
  --addresses "$BENCH_STATE/single.tsv" --parallel 1) || { echo "FAILED: the bare probe got wrong answers" >&2; status=1; }
echo "$bare_out"
F_MEDIAN=$(sed -n '1s/.* median_ms=\([0-9.]*\).*/\1/p' <<<"$bare_out")
[[ -n $F_MEDIAN ]] || bench_fail "no figures from the bare probe"
D_TARGET=$(bench_calc "$F_MEDIAN + 2" 3)
E_TARGET=$(bench_calc "2 * $F_MEDIAN + 2" 3)
echo "single call vs bare probe: (d) $D_MEDIAN ms against target <= $D_TARGET ms (bare + 2 ms);" \
  "(e) $E_MEDIAN ms against target <= $E_TARGET ms (2 x bare + 2 ms)"

# (g) A table of 1,000 rows verified row by row in one UPDATE, beside the set
# form over 1,000 other addresses (both fresh probes at run (a)'s domains).
G_ROWS=1000
if ((N >= SINGLE + 2 * G_ROWS)); then
  echo
  echo "== (g) UPDATE over $G_ROWS rows: verify_email row by row, and the set form (verify_emails)"
  temp_psql -q <<SQL
CREATE TABLE rowwise AS SELECT email, NULL::text AS verdict FROM addrs
  WHERE run = 'a' AND i BETWEEN $((SINGLE + 1)) AND $((SINGLE + G_ROWS));
CREATE TABLE setwise AS SELECT email, NULL::text AS verdict FROM addrs
  WHERE run = 'a' AND i BETWEEN $((SINGLE + G_ROWS + 1)) AND $((SINGLE + 2 * G_ROWS));
SQL
  g_start=$(date +%s.%N)
  g_notices=$(temp_psql -q -c "UPDATE rowwise SET verdict = (verify_email(email, refresh => true)).verdict" 2>&1 |
    grep -c "NOTICE:  mailsentry: this statement" || true)
  G_ROW_SECONDS=$(bench_calc "$(date +%s.%N) - $g_start" 2)
  g_start=$(date +%s.%N)
  temp_psql -q -c "UPDATE setwise s SET verdict = v.verdict
                   FROM verify_emails(ARRAY(SELECT email FROM setwise), refresh => true) v WHERE v.email = s.email"
  G_SET_SECONDS=$(bench_calc "$(date +%s.%N) - $g_start" 2)
  G_RATIO=$(bench_calc "$G_ROW_SECONDS / $G_SET_SECONDS" 2)
  G_FILLED=$(temp_psql -Atq -c "SELECT (SELECT count(verdict) FROM rowwise) || ' / ' || (SELECT count(verdict) FROM setwise)")
  echo "row by row $G_ROW_SECONDS s, set form $G_SET_SECONDS s: ratio $G_RATIO; verdicts filled $G_FILLED;" \
    "NOTICEs raised by the row-by-row UPDATE: $g_notices"
fi

# (b) domain_age = off: a server-wide setting; the restart applies it and
# empties the worker's memory (DNS, sessions, catch-all and domain-age caches).
temp_psql -q -c "ALTER SYSTEM SET mailsentry.domain_age = off"
temp_cluster_restart
wait_for_worker
run_bulk b "(b) verify_emails, the same with mailsentry.domain_age = off (domains $PREFIX_B-store-01..50.net)"
B_SECONDS=$RUN_SECONDS B_RATE=$RUN_RATE B_ANSWERS=$RUN_ANSWERS B_POSTFIX=$RUN_POSTFIX

# (c) The minimal client over run (b)'s addresses.
echo
echo "== (c) minimal client (test/bench/minimal_probe_client.py): one connection per address, $PARALLEL at once," \
  "EHLO localhost, MAIL FROM:<>, no DNS; run (b)'s $N addresses"
from=$(postfix_log_lines)
client_out=$(timeout "$RUN_TIMEOUT" "$BENCH_PYTHON" "$BENCH_HERE/minimal_probe_client.py" "$POSTFIX_IP" \
  --addresses "$BENCH_STATE/addresses-b.tsv" --parallel "$PARALLEL") || {
  echo "FAILED: the minimal client got wrong answers or did not finish:" >&2
  status=1
}
echo "$client_out"
line=$(head -n 1 <<<"$client_out")
C_SECONDS=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$line")
C_RATE=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$line")
C_ANSWERS="$(sed -n 's/.* accepted=\([0-9]*\) rejected=\([0-9]*\) other=\([0-9]*\) errors=\([0-9]*\) wrong=\([0-9]*\).*/\1 exist \/ \2 do not \/ \3 other replies, \4 errors; \5 differ from the vmailbox map/p' <<<"$line")"
C_POSTFIX=$(postfix_counts "$from")
echo "Postfix for this run: $C_POSTFIX"
[[ -n $C_SECONDS && -n $C_RATE ]] || bench_fail "no figures from the minimal client"

# ---- Summary ----------------------------------------------------------------------

if [[ $(library_id) != "$LIBRARY_ID" ]]; then
  echo "WARNING: $LIBRARY was replaced during the runs (was: $LIBRARY_ID; now: $(library_id));" \
    "the figures may mix two builds" >&2
  status=1
fi

ratio_ab=$(bench_calc "$A_RATE / $B_RATE" 3)
group_digits() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
# shellcheck disable=SC2016  # backquotes for Markdown
forced=$(printf '`%s`, ' "${FORCED[@]}" | sed "s|$BENCH_STATE/|<state dir>/|; s/, $//")
echo
echo "== summary (for BENCHMARKS.md)"
cat <<EOF

### Default settings against a real Postfix: $(group_digits "$N") addresses over $DOMAINS domains on one MX

Command: \`$COMMAND\` (\`make bench-postfix\`), $(date -u '+%Y-%m-%d %H:%M UTC').
Machine: $(nproc) CPUs ($cpu), $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); load average $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end;
$(pg_config --version); Postfix $(postconf -c "$POSTFIX_CONF" -h mail_version);
installed mailsentry.so of $LIBRARY_ID (source tree: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo ' with uncommitted changes')).
One MX host (Postfix, default error limits: soft $(postfix_settings smtpd_soft_error_limit), hard $(postfix_settings smtpd_hard_error_limit), error sleep $(postfix_settings smtpd_error_sleep_time); \`in_flow_delay = $IN_FLOW_DELAY\`), $expect_valid of the addresses exist, the others get 550 5.1.1;
RDAP for .net unreachable ($(if [[ $RDAP_MODE == refused ]]; then echo "connection refused"; else echo "SYNs dropped"; fi)), no WHOIS server.
Settings forced by the environment in (a) and (b): $forced.

| run | wall time | addresses/s | answers |
|---|---|---|---|
| (a) \`verify_emails\`, mailsentry defaults | $A_SECONDS s | **$A_RATE** | $A_ANSWERS |
| (b) \`verify_emails\`, \`mailsentry.domain_age = off\` | $B_SECONDS s | **$B_RATE** | $B_ANSWERS |
| (c) minimal client: one connection per address, $PARALLEL at once | $C_SECONDS s | **$C_RATE** | $C_ANSWERS |

Single calls, with the same defaults (median of each call, timed in the server):

| measurement | median | mean | p90 | target |
|---|---|---|---|---|
| (d) \`verify_email\`, new probe at a domain seen before (refresh => true), $D_CALLS calls, $D_CONFIRMED confirmed | **$D_MEDIAN ms** | $D_MEAN ms | $D_P90 ms | <= bare + 2 ms = $D_TARGET ms |
| (e) \`verify_email\`, first address at a new domain, $E_CALLS calls, $E_CONFIRMED confirmed | **$E_MEDIAN ms** | $E_MEAN ms | $E_P90 ms | <= 2 x bare + 2 ms = $E_TARGET ms |
| (f) bare probe: connect, banner, EHLO, MAIL FROM, RCPT TO, QUIT, one at a time | **$F_MEDIAN ms** | | | |

$(if [[ -n ${G_RATIO:-} ]]; then echo "(g) UPDATE over $G_ROWS rows: row by row (\`(verify_email(email, refresh => true)).verdict\`) **$G_ROW_SECONDS s**, set form (\`verify_emails\`) **$G_SET_SECONDS s**, ratio **$G_RATIO**; NOTICEs raised by the row-by-row statement: $g_notices."; fi)

Ratio a/b (addresses/s): **$ratio_ab** (b is $(bench_calc "$B_RATE / $A_RATE" 1) x as fast as a); b/c: $(bench_calc "$B_RATE / $C_RATE" 2); a/c: $(bench_calc "$A_RATE / $C_RATE" 2).

What Postfix logged (connections, commands; hangups at the hard error limit):
- (a): $A_POSTFIX
- (b): $B_POSTFIX
- (c): $C_POSTFIX
EOF
exit "$status"
