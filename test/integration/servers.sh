#!/usr/bin/env bash
# Starts and stops the servers the SQL integration tests talk to, on fixed
# loopback addresses and the real ports (DNS 53, SMTP 25, HTTP 80):
#
#   servers.sh start    fresh state dir, start everything, wait until each answers
#   servers.sh stop     stop everything started from the state dir (idempotent)
#   servers.sh status   say what runs; non-zero if anything is down
#
# State dir: $MAILSENTRY_IT_DIR (default /tmp/mailsentry-it). It holds the pid
# files, transcripts, logs and generated configs, and is world-readable so
# PostgreSQL (user postgres) can pg_read_file() the transcripts.
# Must run as root (ports below 1024, a Postfix instance). Loopback only.
# See README.md for what answers where.
set -euo pipefail

# The servers outlive this script: they must not inherit its open files
# beyond stdio (a caller's lock file or a pipe to tee would stay held).
for fd_path in /proc/$$/fd/*; do
  fd=${fd_path##*/}
  if [ "$fd" -gt 2 ] 2>/dev/null && [ "$fd" != 255 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
done

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SERVERS_DIR=$(cd "$HERE/../servers" && pwd)
STATE=${MAILSENTRY_IT_DIR:-/tmp/mailsentry-it}
PYTHON=${PYTHON:-/usr/bin/python3}
DNSMASQ=/usr/sbin/dnsmasq
PROBE=("$PYTHON" "$HERE/probe.py")
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the source tree
# shellcheck source=test/integration/postfix_lib.sh
source "$HERE/postfix_lib.sh"
MARKER=.mailsentry-it  # only a directory holding this file is ever wiped
START_TIMEOUT=15       # seconds each server gets to answer

DNS_IP=127.0.0.53
BLIND_DNS_IP=127.0.0.55  # a resolver that cannot see the Internet: NXDOMAIN for every name
POSTFIX_IP=127.0.0.25
RDAP_IP=127.0.0.44
REFUSED_IP=127.0.0.29  # nothing may listen here (dead/refused MX)
# Scripted SMTP servers: <name>:<address>. The scenario is scenarios/<name>.json,
# the transcript $STATE/smtp-<name>.jsonl.
SCRIPTED=(
  catchall:127.0.0.26 greylist:127.0.0.27 tarpit:127.0.0.28 busy:127.0.0.30
  policy:127.0.0.31 utf8:127.0.0.32 multiline:127.0.0.33 malformed:127.0.0.34
  slowbanner:127.0.0.35 tls:127.0.0.36 notls:127.0.0.37 exists:127.0.0.38
  slow:127.0.0.39 gmail:127.0.0.40 jobs:127.0.0.41
)

say() { echo "servers.sh: $*"; }
fail() {
  echo "servers.sh: FAILED: $*" >&2
  exit 1
}

# ---- State directory and pid files -----------------------------------------

check_state_path() {
  case "$STATE" in
    /?*) ;;
    *) fail "MAILSENTRY_IT_DIR must be an absolute path other than / (got '$STATE')" ;;
  esac
}

fresh_state_dir() {
  if [[ -e $STATE ]]; then
    if [[ -f $STATE/$MARKER ]]; then
      rm -rf -- "$STATE"
    elif [[ -n $(ls -A -- "$STATE") ]]; then
      fail "$STATE exists, is not empty and was not made by servers.sh; refusing to wipe it"
    fi
  fi
  mkdir -p "$STATE/pids"
  touch "$STATE/$MARKER"
  chmod 755 "$STATE" "$STATE/pids"
}

# A zombie counts as gone (a failed start reaps its own children only at exit).
pid_alive() {
  local stat
  [[ $1 =~ ^[0-9]+$ ]] && stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# True if pid runs a command whose arguments or environment (Postfix's master
# gets MAIL_CONFIG) name the state dir: guards against killing an unrelated
# process that reused a stale pid.
pid_is_ours() {
  local text
  pid_alive "$1" || return 1
  text=$(cat "/proc/$1/cmdline" "/proc/$1/environ" 2>/dev/null | tr '\0' '\n') || true
  [[ $text == *"$STATE/"* ]]
}

# Runs a server in the background in its own session (so a terminal's Ctrl-C
# or the caller's process group going away does not leave half of them), with
# output in $STATE/<name>.out and its pid in $STATE/pids/<name>.pid.
spawn() {
  local name=$1
  shift
  setsid "$@" >"$STATE/$name.out" 2>&1 </dev/null &
  echo $! >"$STATE/pids/$name.pid"
}

# Stops a process politely, then firmly.
stop_pid() {
  local pid=$1 i
  pid_is_ours "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# ---- Readiness --------------------------------------------------------------

# Prints the readiness checks, one per line: "<server name> <probe.py command>".
# Each must pass against the real server; the name is how a failure is
# reported and finds the pid file ($STATE/pids/<name>.pid) and the server's
# output ($STATE/<name>.out).
readiness_checks() {
  local entry name ip code
  # DNS: a configured answer, and NXDOMAIN for an unknown name (authoritative,
  # nothing forwarded).
  echo "dnsmasq dns postfix-mail.net MX --server $DNS_IP --answer '10 mx.postfix-mail.net'"
  echo "dnsmasq dns unknown.net A --server $DNS_IP --rcode NXDOMAIN"
  echo "blinddns dns gmail.com MX --server $BLIND_DNS_IP --rcode NXDOMAIN"
  echo "rdap http http://$RDAP_IP/domain/old-mail.net --contains 2001-05-01"
  # Postfix: a mailbox (250), an unknown user (550 5.1.1), a mailbox of the
  # implicit-MX domain; each RCPT within 1 s (a few ms when no DNS is tried).
  echo "postfix rcpt $POSTFIX_IP alice@postfix-mail.net=250/2.1.5" \
    "zed@postfix-mail.net=550/5.1.1 carol@implicit-mail.net=250/2.1.5 --max-ms 1000"
  # Scripted servers: the banner (or the tarpit's silence); the probe then
  # empties the transcript so the tests see only their own connections.
  for entry in "${SCRIPTED[@]}"; do
    name=${entry%%:*} ip=${entry#*:} code=220
    [[ $name == busy ]] && code=421
    if [[ $name == tarpit ]]; then
      echo "smtp-$name silent $ip --transcript $STATE/smtp-$name.jsonl"
    else
      echo "smtp-$name banner $ip --code $code --transcript $STATE/smtp-$name.jsonl"
    fi
  done
  echo "refused refused $REFUSED_IP"
}

# Runs every check at once in one python process (python start-ups are what
# is slow), then tidies up after them.
wait_until_ready() {
  readiness_checks | "${PROBE[@]}" ready --state "$STATE" --timeout "$START_TIMEOUT" ||
    fail "not every server started (see above); all of them are stopped again"
  : >"$STATE/rdap.jsonl"  # the readiness request is not the tests' traffic
  postfix_master_pid "$STATE" >"$STATE/pids/postfix.pid"
  # Readable by PostgreSQL: dnsmasq and postlogd create their logs 0640/0600.
  chmod 644 "$STATE/dnsmasq.log" "$STATE/postfix.log"
}

# ---- DNS: dnsmasq on 127.0.0.53:53 -------------------------------------------

start_dns() {
  # --user=root: it writes its query log into the state dir, and runs no
  # longer than the test. The records are all in dnsmasq.conf.
  spawn dnsmasq "$DNSMASQ" --keep-in-foreground --conf-file="$HERE/dnsmasq.conf" \
    --pid-file= --user=root --log-facility="$STATE/dnsmasq.log"
}

# The resolver of a server without Internet access (or a split-horizon one):
# NXDOMAIN for every name, also the canary domains. No answer is forwarded.
start_blind_dns() {
  spawn blinddns "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
    --bind-interfaces --listen-address="$BLIND_DNS_IP" --port=53 --address=/#/ \
    --cache-size=0 --pid-file= --user=root --log-facility="$STATE/blinddns.log"
}

# ---- RDAP: HTTP on 127.0.0.44:80 ----------------------------------------------

rdap_body() {  # <domain> <registration date>
  printf '{"objectClassName": "domain", "ldhName": "%s", "status": ["active"], "events": [
        {"eventAction": "registration", "eventDate": "%sT00:00:00Z"},
        {"eventAction": "expiration", "eventDate": "2035-01-01T00:00:00Z"}]}' "$1" "$2"
}

write_rdap_files() {
  local young
  young=$(date -u -d '10 days ago' +%F)
  cat >"$STATE/rdap-fixture.json" <<EOF
{"rdap": {
  "young-mail.net": {"status": 200, "body": $(rdap_body young-mail.net "$young")},
  "old-mail.net": {"status": 200, "body": $(rdap_body old-mail.net 2001-05-01)},
  "slow-mail.net": {"status": 200, "delay_ms": 3000, "body": $(rdap_body slow-mail.net 2012-03-01)},
  "lateage-mail.net": {"status": 200, "delay_ms": 1500, "body": $(rdap_body lateage-mail.net "$young")},
  "latejob-mail.net": {"status": 200, "delay_ms": 1500, "body": $(rdap_body latejob-mail.net "$young")}
}}
EOF
  # Bootstrap file (IANA dns.json format): every test TLD goes to the responder.
  cat >"$STATE/rdap_dns.json" <<EOF
{"version": "1.0", "publication": "2026-01-01T00:00:00Z",
 "description": "mailsentry integration tests: RDAP for com, net, org on $RDAP_IP",
 "services": [[["com", "net", "org"], ["http://$RDAP_IP/"]]]}
EOF
}

# A blocklist zone that answers slowly, for the "checks run concurrently" test.
start_slow_dns() {
  spawn slowdns "$PYTHON" "$HERE/slow_dns.py" --host 127.0.0.54 --port 53 \
    --slow-name slow-mail.net.slowbl.blocklist-test.org --delay-ms 3000 \
    --servfail-zone servfail-mail.net --silent-zone silent-mail.net --log "$STATE/slowdns.jsonl"
}

start_rdap() {
  write_rdap_files
  spawn rdap "$PYTHON" "$HERE/rdap_server.py" --host "$RDAP_IP" --port 80 \
    --fixtures "$STATE/rdap-fixture.json" --log "$STATE/rdap.jsonl"
}

# ---- Scripted SMTP servers on 127.0.0.26-41:25 --------------------------------

start_scripted() {
  local entry name ip
  for entry in "${SCRIPTED[@]}"; do
    name=${entry%%:*} ip=${entry#*:}
    cp "$HERE/scenarios/$name.json" "$STATE/scenario-$name.json"
    : >"$STATE/smtp-$name.jsonl"
    spawn "smtp-$name" "$PYTHON" "$SERVERS_DIR/scripted_smtp.py" --host "$ip" --port 25 \
      --scenario "$STATE/scenario-$name.json" --transcript "$STATE/smtp-$name.jsonl" \
      --port-file "$STATE/smtp-$name.port"
  done
}

# ---- Postfix on 127.0.0.25:25 -----------------------------------------------

# The instance's files and commands: postfix_lib.sh; main.cf from
# postfix/main.cf.in, the services and the mailboxes of postfix/.
start_postfix() {
  postfix_dirs "$STATE"
  sed -e "s|@STATE@|$STATE|g" -e "s|@CONF@|$(postfix_conf "$STATE")|g" \
    "$HERE/postfix/main.cf.in" >"$(postfix_conf "$STATE")/main.cf"
  postfix_write_master "$STATE" "$POSTFIX_IP"
  postfix_maps "$STATE" "$HERE/postfix/vmailbox"
  postfix_check "$STATE" || fail "postfix check failed (see above)"
  postfix_start "$STATE" || fail "postfix did not start (see above)"
}

stop_postfix() {
  postfix_stop "$STATE"
  rm -f "$STATE/pids/postfix.pid"
}

# ---- Commands -----------------------------------------------------------------

write_pg_conf() {
  sed -e "s|/tmp/mailsentry-it/|$STATE/|g" "$HERE/pg.conf" >"$STATE/pg.conf"
}

cmd_start() {
  check_state_path
  [[ $(id -u) -eq 0 ]] || fail "must run as root (ports 25, 53, 80 and a Postfix instance)"
  umask 022
  local started=$SECONDS
  stop_all  # whatever an earlier run left behind
  fresh_state_dir
  # From here on, any failure stops what was started: nothing outlives a failed start.
  trap 'status=$?; if ((status != 0)); then stop_all; fi' EXIT
  "${PROBE[@]}" refused "$REFUSED_IP" >/dev/null ||
    fail "something listens on $REFUSED_IP:25, which must refuse connections"
  # Postfix's start scripts take a second or more: they run meanwhile.
  start_postfix &
  local postfix_job=$!
  start_slow_dns
  start_dns
  start_blind_dns
  start_rdap
  start_scripted
  wait "$postfix_job" || fail "postfix did not start (see above); all servers are stopped again"
  wait_until_ready
  write_pg_conf
  trap - EXIT
  say "all servers answer (state dir $STATE, $((SECONDS - started)) s)"
}

stop_all() {
  [[ -d $STATE ]] || return 0
  stop_postfix
  local pid_file
  for pid_file in "$STATE"/pids/*.pid; do
    [[ -e $pid_file ]] || continue
    stop_pid "$(cat "$pid_file")"
    rm -f "$pid_file"
  done
}

cmd_stop() {
  check_state_path
  if [[ ! -d $STATE ]]; then
    say "nothing to stop ($STATE does not exist)"
    return 0
  fi
  stop_all
  say "stopped (state dir $STATE kept for inspection)"
}

cmd_status() {
  check_state_path
  local down=0 pid_file name pid
  for pid_file in "$STATE"/pids/*.pid; do
    [[ -e $pid_file ]] || continue
    name=$(basename "$pid_file" .pid) pid=$(cat "$pid_file")
    if pid_is_ours "$pid"; then
      say "$name: running (pid $pid)"
    else
      say "$name: NOT running"
      down=1
    fi
  done
  [[ -e $STATE/pids/dnsmasq.pid ]] || { say "nothing started"; down=1; }
  return "$down"
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
