#!/usr/bin/env bash
# The soak test: SESSIONS (50) concurrent sessions calling verify_email /
# verify_emails for SOAK_SECONDS (300) while the MTA restarts, the DNS server
# stops and starts again, and the worker receives SIGTERM twice. Run as root
# after make install (or: make soak; make soak SOAK_SECONDS=30 is the short
# form test/run_all.sh runs):
#   SOAK_SECONDS=300 bash test/soak/soak.sh
#
# Its own servers on loopback only (never those of test/integration/servers.sh,
# nor the addresses of the benchmarks that may run meanwhile):
#   127.0.0.162:25  Postfix (its own instance, the suite's configuration from
#                   test/integration/postfix/ as test/integration/postfix_lib.sh
#                   writes it for test/bench/postfix_bulk_bench.sh too): virtual
#                   mailbox domains soak-store-01..20.net, MAILBOXES existing
#                   mailboxes each; other recipients get 550 5.1.1 at RCPT time
#   127.0.0.164:53  dnsmasq: the 20 domains, all with the MX host
#                   mx.soak-mta.net (127.0.0.162); every other name under .net
#                   is NXDOMAIN (soak-gone-*.net, gone-<random>.net); answers
#                   have a 5 s TTL, so the worker keeps asking; the worker's
#                   canary domains answer (bench_servers.sh)
#   127.0.0.165:80  test/integration/rdap_server.py, the registry of .net in the
#                   bootstrap file given to mailsentry: stores 01-14 registered in
#                   2001, 15-17 ten days ago, 18-20 answer after 1.5 s (dates
#                   that reach the cache after their verdict)
#   a throwaway cluster (scripts/temp_cluster.sh) on port 54398, the library
#   preloaded; mailsentry.dns_servers = the dnsmasq above,
#   allow_private_networks = on, rdap_bootstrap_file = the file above, and
#   circuit_breaker_cooldown = 5s (default 60 s: each MTA restart opens the
#   MX's breaker, and with the default a 30 s soak would probe Postfix only
#   until the first restart; every address would fail fast after it); every
#   other setting at its default.
#
# The load and the checks that need SQL are test/soak/driver.py (see there:
# what counts as an allowed error, the hang bound). Meanwhile, at fixed
# fractions of the run:
#   15%  the MTA restarts (postfix stop, 1 s down, postfix start)
#   30%  the worker gets SIGTERM (pid from mailsentry.stats); it must be back,
#        with a new pid, within 15 s
#   45%  dnsmasq stops;  55% it starts again
#   70%  the worker gets SIGTERM again
#   85%  the MTA restarts again
# Afterwards: the driver's checks (no slot in flight or queued within
# SETTLE s, every finished verdict in mailsentry.cache), a fresh probe gets
# a confirmed verdict again within 20 s, the postmaster is
# the one that started (same pid) and its log shows no crash and no
# crash-restart ("terminated by signal", "terminating any other active
# server processes", "reinitializing", PANIC).
#
# Ends with "test soak ... ok" or "test soak ... FAILED (reason)"; exit
# status 0 or 1. On failure the state directory (server log, Postfix log,
# driver output, a core file if the kernel wrote one in the data directory)
# is kept and named.
#
# Environment: SOAK_SECONDS (300), SESSIONS (50), MAILBOXES (1000 per
# domain), BOUND (60: seconds a call may take), SETTLE (5), SEED (random).
set -uo pipefail
SOAK_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SOAK_HERE/../.." && pwd)
source "$ROOT/scripts/as_root.sh"
source "$ROOT/scripts/temp_cluster.sh"
source "$ROOT/test/bench/bench_servers.sh"
source "$ROOT/test/integration/postfix_lib.sh"
# Nothing runs as postgres with the source tree (or /root) as its directory.
cd /tmp || exit 1

# shellcheck disable=SC2034  # read by scripts/temp_cluster.sh
TEMP_CLUSTER_PORT=54398
SOAK_SECONDS=${SOAK_SECONDS:-300}
SESSIONS=${SESSIONS:-50}
MAILBOXES=${MAILBOXES:-1000}
BOUND=${BOUND:-60}
SETTLE=${SETTLE:-5}
SEED=${SEED:-$RANDOM}
DOMAINS=20
POSTFIX_IP=127.0.0.162 DNS_IP=127.0.0.164 RDAP_IP=127.0.0.165
MX_HOST=mx.soak-mta.net
RDAP_HOST=rdap.soak-registry.net

soak_fail() {
  echo "test soak ... FAILED ($*)"
  exit 1
}
# bench_fail (bench_servers.sh) ends setup errors; say it the soak's way too.
bench_fail() {
  echo "soak: $*" >&2
  KEEP_STATE=1
  soak_fail "$*"
}
for v in SOAK_SECONDS SESSIONS MAILBOXES BOUND SETTLE SEED; do
  if ! [[ ${!v} =~ ^[0-9]+$ ]] || ((${!v} == 0)); then soak_fail "$v must be a positive number"; fi
done
for ip in "$POSTFIX_IP" "$DNS_IP" "$RDAP_IP"; do
  [[ $ip =~ ^127\.0\.0\.(16[0-9]|170)$ ]] || soak_fail "$ip is outside the soak's range 127.0.0.160-170"
done
"$BENCH_PYTHON" -c 'import psycopg2' 2>/dev/null ||
  soak_fail "$BENCH_PYTHON has no psycopg2 (Debian package python3-psycopg2: scripts/install_deps.sh)"

bench_servers_init soak
POSTFIX_STARTED=""
DNS_PID=""

# ---- Postfix (test/integration/postfix_lib.sh, as the Postfix benchmark) -------

stop_postfix() {
  [[ -n $POSTFIX_STARTED ]] || return 0
  postfix_stop "$BENCH_STATE" 100
  POSTFIX_STARTED=""
}

write_postfix_config() {
  postfix_dirs "$BENCH_STATE"
  postfix_write_main "$BENCH_STATE" "$POSTFIX_IP" "$MX_HOST" postfix-mailsentry-soak soak 0
  postfix_write_master "$BENCH_STATE" "$POSTFIX_IP"
  postfix_maps "$BENCH_STATE" "$BENCH_STATE/vdomains" "$BENCH_STATE/vmailbox"
  postfix_check "$BENCH_STATE" || bench_fail "postfix check failed (see above)"
}

start_postfix() {
  POSTFIX_STARTED=1
  postfix_start "$BENCH_STATE"
}

# ---- dnsmasq, restartable -------------------------------------------------------

# As bench_start_dns (test/bench/bench_servers.sh) writes it, but with a 5 s
# TTL: the worker asks again during the run, also while dnsmasq is down.
write_dns_config() { bench_write_dns_config "$DNS_IP" "$BENCH_STATE/zones.conf" 5; }

start_dns() {
  bench_spawn_dns
  DNS_PID=$!
}

stop_dns() {
  local i pid=$DNS_PID keep=()
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    bench_pid_alive "$pid" || break
    sleep 0.1
  done
  bench_pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  # Forget the pid, so that bench_servers_stop never signals a reused one.
  for i in "${BENCH_PIDS[@]}"; do [[ $i == "$pid" ]] || keep+=("$i"); done
  BENCH_PIDS=("${keep[@]}")
  DNS_PID=""
}

# ---- Cleanup -------------------------------------------------------------------

stop_all() {
  if [[ -n ${driver:-} ]] && kill -0 "$driver" 2>/dev/null; then kill -TERM "$driver" 2>/dev/null; fi
  temp_cluster_stop
  stop_postfix
  bench_servers_stop
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- Addresses, DNS records, mailboxes, RDAP -------------------------------------

"$BENCH_PYTHON" - "$BENCH_STATE" "$DOMAINS" "$MAILBOXES" "$POSTFIX_IP" "$RDAP_IP" "$MX_HOST" "$RDAP_HOST" <<'PY'
import datetime, json, sys
state, domains, mailboxes, postfix_ip, rdap_ip, mx_host, rdap_host = sys.argv[1:]
domains, mailboxes = int(domains), int(mailboxes)
NAMES = ["anna", "bruno", "carla", "david", "elena", "felix", "greta", "hugo", "irene", "jonas"]
zones = [f"host-record={mx_host},{postfix_ip}", f"host-record={rdap_host},{rdap_ip}"]
vdomains, vmailbox, exist, names, rdap = [], [], [], [], {}
young = (datetime.date.today() - datetime.timedelta(days=10)).isoformat()
for d in range(1, domains + 1):
    domain = f"soak-store-{d:02d}.net"
    names.append(domain)
    zones.append(f"mx-host={domain},{mx_host},10")
    vdomains.append(domain)
    for i in range(1, mailboxes + 1):
        address = f"{NAMES[i % 10]}.{i}@{domain}"
        exist.append(address)
        vmailbox.append(f"{address}\t{domain}/{NAMES[i % 10]}.{i}/")
    created = "2001-05-01" if d <= 14 else young
    entry = {"status": 200, "body": {
        "objectClassName": "domain", "ldhName": domain, "status": ["active"],
        "events": [{"eventAction": "registration", "eventDate": f"{created}T00:00:00Z"},
                   {"eventAction": "expiration", "eventDate": "2035-01-01T00:00:00Z"}]}}
    if d > 17:
        entry["delay_ms"] = 1500
    rdap[domain] = entry
dead = [f"soak-gone-{d:02d}.net" for d in range(1, 11)]  # not in DNS: NXDOMAIN (+ random ones, driver.py)
for name, lines in (("zones.conf", zones), ("vdomains", vdomains), ("vmailbox", vmailbox)):
    with open(f"{state}/{name}", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
with open(f"{state}/addresses.json", "w", encoding="utf-8") as f:
    json.dump({"mailboxes": exist, "domains": names, "dead_domains": dead}, f)
with open(f"{state}/rdap-fixture.json", "w", encoding="utf-8") as f:
    json.dump({"rdap": rdap}, f)
with open(f"{state}/rdap_dns.json", "w", encoding="utf-8") as f:
    json.dump({"version": "1.0", "publication": "2026-01-01T00:00:00Z",
               "description": "mailsentry soak: .net at the soak's RDAP server",
               "services": [[["net"], [f"http://{rdap_ip}/"]]]}, f)
PY
[[ -s $BENCH_STATE/addresses.json ]] || bench_fail "could not write the soak's addresses"

# ---- Servers ----------------------------------------------------------------------

for check in "$POSTFIX_IP" "$DNS_IP --port 53" "$RDAP_IP --port 80"; do
  # shellcheck disable=SC2086
  "${BENCH_PROBE[@]}" refused $check >/dev/null ||
    bench_fail "something already listens on $check (another soak running?)"
done
write_postfix_config
start_postfix || bench_fail "postfix did not start"
write_dns_config
start_dns
bench_spawn rdap "$BENCH_PYTHON" "$ROOT/test/integration/rdap_server.py" --host "$RDAP_IP" --port 80 \
  --fixtures "$BENCH_STATE/rdap-fixture.json" --log "$BENCH_STATE/rdap.jsonl"
bench_wait_ready \
  "dnsmasq dns soak-store-07.net MX --server $DNS_IP --answer '10 $MX_HOST'" \
  "dnsmasq dns $MX_HOST A --server $DNS_IP --answer $POSTFIX_IP" \
  "dnsmasq dns soak-gone-01.net MX --server $DNS_IP --rcode NXDOMAIN" \
  "postfix rcpt $POSTFIX_IP anna.10@soak-store-01.net=250/2.1.5 nobody.x1@soak-store-01.net=550/5.1.1 --helo localhost --mail-from '' --timeout 5 --max-ms 10000" \
  "rdap http http://$RDAP_IP/domain/soak-store-01.net --contains 2001-05-01"
postfix_master_pid "$BENCH_STATE" >/dev/null || bench_fail "Postfix answers but wrote no master.pid"

# ---- The cluster ------------------------------------------------------------------

# Core files of a crash are kept with the state directory (see the end).
ulimit -c unlimited 2>/dev/null
temp_cluster_start "mailsentry.dns_servers = '$DNS_IP'" \
  "mailsentry.allow_private_networks = on" \
  "mailsentry.rdap_bootstrap_file = '$BENCH_STATE/rdap_dns.json'" \
  "mailsentry.circuit_breaker_cooldown = '5s'" \
  "log_line_prefix = '%m [%p] %b '"
trap stop_all EXIT  # temp_cluster_start set its own
SERVER_LOG=$TEMP_CLUSTER_DIR/server.log
POSTMASTER_PID=$(head -n 1 "$TEMP_CLUSTER_DIR/data/postmaster.pid")

worker_pid() {
  temp_psql -Atq -c "SELECT worker_pid FROM mailsentry.stats WHERE worker_state = 'running'
                     AND worker_pid IN (SELECT pid FROM pg_stat_activity
                                        WHERE backend_type = 'mailsentry worker' AND datname IS NOT NULL)" 2>/dev/null
}
# wait_for_worker [OLD_PID]: a running worker connected to its database
# (other than OLD_PID) within 15 s; prints its pid.
wait_for_worker() {
  local i pid
  for ((i = 0; i < 150; i++)); do
    pid=$(worker_pid)
    if [[ -n $pid && $pid != "${1:-}" ]]; then
      echo "$pid"
      return 0
    fi
    sleep 0.1
  done
  return 1
}

temp_psql -q -c "CREATE EXTENSION mailsentry" || bench_fail "CREATE EXTENSION failed"
wait_for_worker >/dev/null || bench_fail "the worker did not start (see $SERVER_LOG)"
# The readiness probes went through Postfix and dnsmasq, not the worker: one
# verification proves the whole chain before the load starts.
ready=$(temp_psql -Atq -c "SELECT verdict || ' ' || verification_level FROM verify_email('bruno.1@soak-store-02.net')")
[[ $ready == "valid confirmed" ]] ||
  bench_fail "the first verification gave '$ready', not 'valid confirmed' (see $SERVER_LOG)"

# ---- The run ----------------------------------------------------------------------

echo "soak: $SESSIONS sessions for $SOAK_SECONDS s (seed $SEED); Postfix $POSTFIX_IP, dnsmasq $DNS_IP," \
  "RDAP $RDAP_IP; cluster $TEMP_CLUSTER_DIR"
bench_machine
"$BENCH_PYTHON" "$SOAK_HERE/driver.py" --host "$TEMP_CLUSTER_DIR" --port "$TEMP_CLUSTER_PORT" \
  --sessions "$SESSIONS" --duration "$SOAK_SECONDS" --bound "$BOUND" --settle "$SETTLE" \
  --addresses "$BENCH_STATE/addresses.json" --seed "$SEED" >"$BENCH_STATE/driver.out" 2>&1 &
driver=$!
run_start=$SECONDS
problems=()

# at FRACTION: sleeps until that fraction of the run has passed.
at() {
  local target
  target=$(bench_calc "$SOAK_SECONDS * $1" 1)
  local wait_for
  wait_for=$(bench_calc "$target - ($SECONDS - $run_start)" 1)
  [[ $wait_for == -* ]] || sleep "$wait_for"
  printf 'soak: %4d s  ' $((SECONDS - run_start))
}

restart_mta() {
  local old
  old=$(postfix_master_pid "$BENCH_STATE" || true)
  stop_postfix
  sleep 1
  if start_postfix && "${BENCH_PROBE[@]}" rcpt "$POSTFIX_IP" anna.10@soak-store-01.net=250/2.1.5 \
       --helo localhost --mail-from '' --timeout 10 --max-ms 10000 >/dev/null 2>&1; then
    echo "the MTA restarted (master $old -> $(postfix_master_pid "$BENCH_STATE"))"
  else
    echo "the MTA did not come back"
    problems+=("the MTA did not come back after a restart")
  fi
}

term_worker() {
  local pid new
  pid=$(worker_pid)
  if [[ -z $pid ]]; then
    echo "no running worker to send SIGTERM to"
    problems+=("no running worker at the SIGTERM ($1)")
    return
  fi
  kill -TERM "$pid"
  if new=$(wait_for_worker "$pid"); then
    echo "SIGTERM to the worker $pid ($1); back as $new"
  else
    echo "SIGTERM to the worker $pid ($1); no new worker within 15 s"
    problems+=("the worker did not come back within 15 s of SIGTERM ($1)")
  fi
}

at 0.15 && restart_mta
at 0.30 && term_worker 1
at 0.45 && { stop_dns; echo "dnsmasq stopped"; }
at 0.55 && {
  start_dns
  if "${BENCH_PROBE[@]}" dns soak-store-07.net MX --server "$DNS_IP" --answer "10 $MX_HOST" >/dev/null 2>&1 ||
     { sleep 1; "${BENCH_PROBE[@]}" dns soak-store-07.net MX --server "$DNS_IP" --answer "10 $MX_HOST" >/dev/null 2>&1; }; then
    echo "dnsmasq started again"
  else
    echo "dnsmasq did not answer after its restart"
    problems+=("dnsmasq did not answer after its restart")
  fi
}
at 0.70 && term_worker 2
at 0.85 && restart_mta
wait "$driver"
driver_status=$?
driver=""
printf 'soak: %4d s  the load ended\n' $((SECONDS - run_start))
cat "$BENCH_STATE/driver.out"

# ---- Still working -----------------------------------------------------------------

# After all that, a fresh probe gets a confirmed verdict again (the breaker the
# last MTA restart opened closes after its 5 s cooldown): within 20 s.
alive=""
for ((i = 0; i < 20; i++)); do
  alive=$(temp_psql -Atq -c "SELECT verdict || ' ' || verification_level
                             FROM verify_email('carla.2@soak-store-03.net', refresh => true)" 2>&1)
  [[ $alive == "valid confirmed" ]] && break
  sleep 1
done
if [[ $alive == "valid confirmed" ]]; then
  echo "after the load: a fresh probe is confirmed again ($i s)"
else
  problems+=("a fresh probe after the load gave '$alive', not 'valid confirmed', for 20 s")
fi

# ---- The server's log -------------------------------------------------------------

now_pid=$(head -n 1 "$TEMP_CLUSTER_DIR/data/postmaster.pid" 2>/dev/null)
[[ $now_pid == "$POSTMASTER_PID" ]] || problems+=("the postmaster changed: $POSTMASTER_PID -> ${now_pid:-none}")
crash=$(grep -E 'terminated by signal|terminating any other active server processes|all server processes terminated; reinitializing|PANIC:|database system was interrupted' \
  "$SERVER_LOG" | head -n 5)
[[ -z $crash ]] || problems+=("the server log shows a crash: $(head -n 1 <<<"$crash")")
worker_exits=$(grep -c 'mailsentry worker.*exited with exit code' "$SERVER_LOG")
echo "server log: $(bench_lines "$SERVER_LOG") lines, worker exits: $worker_exits;" \
  "ERROR/FATAL/WARNING lines by text (top 8):"
grep -E ' (ERROR|FATAL|WARNING|PANIC): ' "$SERVER_LOG" | sed -E 's/^.* (ERROR|FATAL|WARNING|PANIC): +/\1: /' |
  sed -E 's/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -n 8 | sed 's/^/  /'

# ---- Verdict ------------------------------------------------------------------------

result=$(sed -n 's/^RESULT //p' "$BENCH_STATE/driver.out")
if [[ -z $result ]]; then
  problems+=("the driver gave no result (exit $driver_status)")
elif ((driver_status != 0)); then
  # No backslash inside an f-string's braces: Python 3.11 (Debian 12) refuses it.
  problems+=("$("$BENCH_PYTHON" -c '
import json, sys
r = json.loads(sys.argv[1])
first = r["failures"][0] if r["failures"] else "?"
print("%d failures, first: %s" % (r["failure_count"], first))' "$result")")
fi
if ((${#problems[@]})); then
  cp "$SERVER_LOG" "$BENCH_STATE/server.log" 2>/dev/null
  # A crashed process's core file (core_pattern "core": the data directory).
  cp "$TEMP_CLUSTER_DIR"/data/core* "$BENCH_STATE/" 2>/dev/null
  KEEP_STATE=1
  printf 'problem: %s\n' "${problems[@]}"
  echo "state kept in $BENCH_STATE (server.log, postfix.log, driver.out)"
  echo "test soak ... FAILED (${problems[0]})"
  exit 1
fi
echo "test soak ... ok"
