# shellcheck shell=bash
# Sourced by the benchmarks cache_hit_bench.sh, bulk_bench.sh, job_bench.sh and
# postfix_bulk_bench.sh, and by test/soak/soak.sh:
# each starts its OWN dnsmasq and scripted SMTP servers on loopback addresses
# reserved for the benchmarks, 127.0.0.150-127.0.0.170 (DNS on port 53, SMTP
# on port 25), never those of test/integration/servers.sh (127.0.0.25-54).
#
#   bench_servers_init NAME            state dir /tmp/mailsentry-bench-NAME.XXXXXX
#   bench_start_dns IP ZONE_FILE       dnsmasq on IP:53; ZONE_FILE holds dnsmasq
#                                      lines (mx-host=, host-record=, txt-record=)
#   bench_write_dns_config IP ZONE_FILE TTL, bench_spawn_dns
#                                      the same in two steps, with another TTL
#                                      (the soak stops and starts its dnsmasq)
#   bench_start_smtp NAME IP SCENARIO  test/servers/scripted_smtp.py on IP:25;
#                                      transcript $BENCH_STATE/smtp-NAME.jsonl
#   bench_wait_ready CHECK...          probe.py checks "<server name> <subcommand> <args>"
#   bench_servers_stop                 stops what was started here (run it from a trap)
#   bench_servers_only CHECK...        with SERVERS_ONLY=1: checks the servers with
#                                      probe.py / pipeline_probe.py, then exits (no PostgreSQL)
#   bench_transcript_counts FILE [FROM_LINE]   SMTP connections, MAIL, RCPT ... in a transcript
#   bench_dns_queries                  the queries dnsmasq has answered so far
#   bench_calc EXPR [DECIMALS]         arithmetic with bc, printed with a leading 0
#   bench_machine                      nproc, CPU model, memory, PostgreSQL, commit
#
# Only the pids started here are ever signalled.
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_PYTHON=${PYTHON:-/usr/bin/python3}
BENCH_PROBE=("$BENCH_PYTHON" "$BENCH_ROOT/test/integration/probe.py")
BENCH_STATE=""
BENCH_PIDS=()
export PYTHONDONTWRITEBYTECODE=1

bench_fail() {
  echo "$(basename "$0"): FAILED: $*" >&2
  exit 1
}

# Refuses anything but the benchmarks' own loopback range.
bench_check_ip() {
  local last
  [[ $1 =~ ^127\.0\.0\.([0-9]{1,3})$ ]] || bench_fail "$1 is not a 127.0.0.x address"
  last=${BASH_REMATCH[1]}
  ((last >= 150 && last <= 170)) || bench_fail "$1 is outside the benchmarks' range 127.0.0.150-170"
}

bench_servers_init() {
  umask 022
  BENCH_STATE=$(mktemp -d "/tmp/mailsentry-bench-$1.XXXXXX")
  mkdir -p "$BENCH_STATE/pids"
  chmod 755 "$BENCH_STATE" "$BENCH_STATE/pids"  # PostgreSQL may read the transcripts
}

# Runs a server in its own session, output in $BENCH_STATE/NAME.out, pid in
# $BENCH_STATE/pids/NAME.pid (where probe.py's "ready" looks for it).
bench_spawn() {
  local name=$1
  shift
  setsid "$@" >"$BENCH_STATE/$name.out" 2>&1 </dev/null &
  BENCH_PIDS+=("$!")
  echo "$!" >"$BENCH_STATE/pids/$name.pid"
}

bench_start_dns() {
  bench_write_dns_config "$1" "$2" 3600
  bench_spawn_dns
}

# bench_write_dns_config IP ZONE_FILE TTL: $BENCH_STATE/dnsmasq.conf for a
# dnsmasq on IP:53 whose answers have a TTL of TTL seconds.
bench_write_dns_config() {
  local ip=$1 zones=$2 ttl=$3
  bench_check_ip "$ip"
  # Authoritative for com, net and org, nothing forwarded, nothing from the
  # machine; unlisted names are NXDOMAIN. No query log: the job benchmark
  # makes thousands of queries. Logs go to stderr (dnsmasq.out).
  cat >"$BENCH_STATE/dnsmasq.conf" <<EOF
listen-address=$ip
port=53
bind-interfaces
no-resolv
no-hosts
no-poll
cache-size=0
local-ttl=$ttl
local=/com/
local=/net/
local=/org/
# What a resolver that sees the Internet answers for the worker's canary
# domains (mailsentry.dns_canary_domains): MX records, never connected to.
mx-host=gmail.com,gmail-smtp-in.l.google.com,5
mx-host=outlook.com,outlook-com.olc.protection.outlook.com,5
mx-host=yahoo.com,mta5.am0.yahoodns.net,1
EOF
  cat "$zones" >>"$BENCH_STATE/dnsmasq.conf"
}

# Starts dnsmasq with $BENCH_STATE/dnsmasq.conf; its pid is $! afterwards.
bench_spawn_dns() {
  bench_spawn dnsmasq /usr/sbin/dnsmasq --keep-in-foreground --conf-file="$BENCH_STATE/dnsmasq.conf" \
    --pid-file= --log-facility=-
}

bench_start_smtp() {
  local name=$1 ip=$2 scenario=$3
  bench_check_ip "$ip"
  "${BENCH_PROBE[@]}" refused "$ip" >/dev/null ||
    bench_fail "something already listens on $ip:25 (another benchmark running?)"
  cp "$scenario" "$BENCH_STATE/scenario-$name.json"
  : >"$BENCH_STATE/smtp-$name.jsonl"
  bench_spawn "smtp-$name" "$BENCH_PYTHON" "$BENCH_ROOT/test/servers/scripted_smtp.py" \
    --host "$ip" --port 25 --scenario "$BENCH_STATE/scenario-$name.json" \
    --transcript "$BENCH_STATE/smtp-$name.jsonl" --port-file "$BENCH_STATE/smtp-$name.port"
}

bench_wait_ready() {
  local check
  for check in "$@"; do echo "$check"; done |
    "${BENCH_PROBE[@]}" ready --state "$BENCH_STATE" --timeout 15 >/dev/null ||
    bench_fail "the benchmark's servers did not start (state dir $BENCH_STATE)"
  # An answer from someone else's server on the same address does not count.
  local pid
  for pid in "${BENCH_PIDS[@]}"; do
    bench_pid_alive "$pid" || bench_fail "a server exited after starting (see $BENCH_STATE/*.out)"
  done
}

# A zombie (exited, not yet reaped) counts as gone.
bench_pid_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# SERVERS_ONLY=1 bash test/bench/<bench>.sh starts the benchmark's servers,
# runs these checks and exits: a test of the servers without PostgreSQL. A
# check is a probe.py command line (dns, rcpt, ...) or "pipeline <args of
# pipeline_probe.py>".
bench_servers_only() {
  [[ -n ${SERVERS_ONLY:-} ]] || return 0
  local check failed=0
  for check in "$@"; do
    eval "set -- $check"
    if [[ $1 == pipeline ]]; then
      shift
      "$BENCH_PYTHON" "$BENCH_ROOT/test/bench/pipeline_probe.py" "$@" || failed=1
    else
      "${BENCH_PROBE[@]}" "$@" || failed=1
    fi
  done
  echo "SERVERS_ONLY: servers started, checked and stopped (state dir $BENCH_STATE)"
  exit "$failed"
}

bench_servers_stop() {
  local pid i
  for pid in "${BENCH_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${BENCH_PIDS[@]}"; do
    for ((i = 0; i < 50; i++)); do
      bench_pid_alive "$pid" || break
      sleep 0.1
    done
    if bench_pid_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
  done
  BENCH_PIDS=()
  if [[ -n $BENCH_STATE && -d $BENCH_STATE && -z ${KEEP_STATE:-} ]]; then
    rm -rf -- "$BENCH_STATE"
  fi
}

# Prints "connections=N mail_from=N rcpt_to=N rset=N quit=N peak_connections=N"
# for the transcript lines after FROM_LINE (0: all). Connections already open
# at FROM_LINE count towards the peak, not towards "connections".
bench_transcript_counts() {
  "$BENCH_PYTHON" - "$1" "${2:-0}" <<'PY'
import json, sys
path, start = sys.argv[1], int(sys.argv[2])
counts = {"connections": 0, "mail_from": 0, "rcpt_to": 0, "rset": 0, "quit": 0}
open_now, peak = set(), 0
with open(path, encoding="utf-8") as f:
    for number, line in enumerate(f, 1):
        if not line.strip():
            continue
        event = json.loads(line)
        mine = number > start
        if event["dir"] == "open":
            open_now.add(event["conn"])
            if mine:
                counts["connections"] += 1
        elif event["dir"] == "close":
            open_now.discard(event["conn"])
        elif event["dir"] == "C" and mine:
            verb = event["text"].upper()
            if verb.startswith("MAIL FROM"):
                counts["mail_from"] += 1
            elif verb.startswith("RCPT TO"):
                counts["rcpt_to"] += 1
            elif verb.startswith("RSET"):
                counts["rset"] += 1
            elif verb.startswith("QUIT"):
                counts["quit"] += 1
        if mine:
            peak = max(peak, len(open_now))
counts["peak_connections"] = peak
print(" ".join(f"{k}={v}" for k, v in counts.items()))
PY
}

bench_lines() { wc -l <"$1" | tr -d ' '; }

# bench_calc EXPRESSION [DECIMALS]: bc arithmetic, printed with DECIMALS (2) digits.
bench_calc() { printf "%.${2:-2}f" "$(echo "scale=6; $1" | bc)"; }

# Prints how many queries the benchmark's dnsmasq has answered (it logs its
# statistics on SIGUSR1).
bench_dns_queries() {
  local pid before i
  pid=$(cat "$BENCH_STATE/pids/dnsmasq.pid")
  before=$(grep -c 'queries answered locally' "$BENCH_STATE/dnsmasq.out" || true)
  kill -USR1 "$pid"
  for ((i = 0; i < 20; i++)); do
    if (($(grep -c 'queries answered locally' "$BENCH_STATE/dnsmasq.out" || true) > before)); then
      grep 'queries answered locally' "$BENCH_STATE/dnsmasq.out" | tail -n 1 | sed 's/^dnsmasq\[[0-9]*\]: //'
      return
    fi
    sleep 0.1
  done
  echo "(no statistics from dnsmasq)"
}

bench_machine() {
  echo "machine: $(nproc) CPUs ($(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')," \
    "$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo))," \
    "$(pg_config --version), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "source: $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(git -C "$BENCH_ROOT" status --porcelain 2>/dev/null | grep -q . && echo '(with uncommitted changes)')"
}
