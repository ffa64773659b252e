#!/usr/bin/env bash
# Process-level tests of the worker that pg_regress cannot express: the
# backend never opens a socket (strace), a SIGKILLed worker and the cluster's
# recovery, and a full request queue. Needs root and the servers of
# test/integration/servers.sh. Prints one "test NAME ... ok|FAILED" line per test.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/temp_cluster.sh
TEMP_CLUSTER_PORT=54391

failures=0
report() {  # name, status (0 = pass), detail
  if [ "$2" -eq 0 ]; then echo "test $1 ... ok"; else echo "test $1 ... FAILED ($3)"; failures=$((failures + 1)); fi
}

# The integration settings, for database postgres.
mapfile -t net_settings < <(grep -v '^\s*#' test/integration/pg.conf | grep -v '^\s*$' |
  grep -v 'mailsentry.database\|shared_preload_libraries')
wait_for_worker() {
  for _ in $(seq 100); do
    [ "$(temp_psql -Atc "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'mailsentry worker'" 2>/dev/null)" = 1 ] && return 0
    sleep 0.1
  done
  return 1
}

temp_cluster_start "mailsentry.database = 'postgres'" "mailsentry.queue_size = 16" \
  "mailsentry.queue_wait_timeout = '500ms'" "${net_settings[@]}"
temp_psql -q -c "CREATE EXTENSION mailsentry" || { report setup 1 "CREATE EXTENSION"; exit 1; }
wait_for_worker || { report setup 1 "worker did not start"; exit 1; }

# 1. The backend process never opens a socket: strace records every socket()
#    and connect() of the backend while it verifies addresses.
trace=$(mktemp /tmp/mailsentry-strace.XXXXXX)
temp_psql -q >/dev/null 2>&1 <<'SQL' &
SET application_name = 'socket_probe';
SELECT pg_sleep(1.5);
SELECT smtp_valid FROM verify_email('alice@postfix-mail.net');
SELECT smtp_valid FROM verify_email('ed@exists-mail.net');
SELECT domain_age_days FROM verify_email('olga@old-mail.net');
SQL
client=$!
sleep 0.7
backend=$(temp_psql -Atc "SELECT pid FROM pg_stat_activity WHERE application_name = 'socket_probe'")
strace -qq -f -e trace=socket,connect,bind -o "$trace" -p "$backend" &
tracer=$!
# The control: the same tracing of the worker does see its connections.
worker=$(temp_psql -Atc "SELECT pid FROM pg_stat_activity WHERE backend_type = 'mailsentry worker'")
strace -qq -f -e trace=socket,connect -o "$trace.worker" -p "$worker" &
control=$!
wait "$client"
kill "$tracer" "$control" 2>/dev/null; wait "$tracer" "$control" 2>/dev/null
calls=$(grep -cE 'socket\(|connect\(|bind\(' "$trace" || true)
worker_calls=$(grep -cE 'connect\(' "$trace.worker" || true)
report backend_opens_no_socket \
  $([ -n "$backend" ] && [ "$calls" -eq 0 ] && [ "$worker_calls" -gt 0 ] && echo 0 || echo 1) \
  "backend=$backend: $calls socket/connect/bind calls ($(head -2 "$trace")); worker: $worker_calls connect calls"
rm -f "$trace" "$trace.worker"

# 2. A worker killed with SIGKILL: PostgreSQL restarts the whole cluster (as
#    for any process attached to shared memory); afterwards the worker is back
#    and verification works.
worker=$(temp_psql -Atc "SELECT pid FROM pg_stat_activity WHERE backend_type = 'mailsentry worker'")
kill -9 "$worker"
recovered=1
for _ in $(seq 150); do
  if temp_psql -Atc "SELECT 1" >/dev/null 2>&1 && wait_for_worker; then recovered=0; break; fi
  sleep 0.2
done
new_worker=$(temp_psql -Atc "SELECT pid FROM pg_stat_activity WHERE backend_type = 'mailsentry worker'" 2>/dev/null)
answer=$(temp_psql -Atc "SELECT smtp_valid FROM verify_email('alice@postfix-mail.net')" 2>&1)
grep -q "terminated by signal 9" "$TEMP_CLUSTER_DIR/server.log"; logged=$?
[[ $recovered == 0 && $logged == 0 && -n $new_worker && $new_worker != "$worker" && $answer == t ]]
report worker_sigkill_recovery $? "recovered=$recovered logged=$logged worker $worker->$new_worker answer=$answer"

# 3. A full queue: 16 slots held by calls waiting on a tarpit; the 17th call
#    waits mailsentry.queue_wait_timeout, then fails with a clear error.
pids=()
for i in $(seq 16); do
  temp_psql -Atc "SET mailsentry.smtp_timeouts = '4000'; SELECT (verify_email('q$i@tarpit-mail.net')).smtp_valid" >/dev/null 2>&1 &
  pids+=($!)
done
sleep 1.5
started=$(date +%s.%N)
overflow=$(temp_psql -Atc "SELECT (verify_email('q17@tarpit-mail.net')).smtp_valid" 2>&1)
elapsed=$(echo "$(date +%s.%N) - $started" | bc)
wait "${pids[@]}"
echo "$overflow" | grep -q "request queue stayed full for 500 ms"; clear=$?
waited=$(echo "$elapsed >= 0.5 && $elapsed < 2.0" | bc)
[[ $clear == 0 && $waited == 1 ]]
report full_queue_waits_then_errors $? "elapsed=${elapsed}s: $overflow"
# ... and once the queue drains, calls go through again.
after=$(temp_psql -Atc "SELECT smtp_valid FROM verify_email('bob@postfix-mail.net')" 2>&1)
report queue_recovers $([ "$after" = t ] && echo 0 || echo 1) "$after"

temp_cluster_stop
exit $(( failures == 0 ? 0 : 1 ))
