#!/usr/bin/env bash
# Process-level tests of the worker that pg_regress cannot express: the
# backend never opens a socket (strace), a SIGKILLed worker and the cluster's
# recovery, a full request queue, background jobs (NOTIFY at the end, resuming
# after an immediate restart, cancelling) and a hot standby. Needs root and the
# servers of test/integration/servers.sh (the jobs use jobs-mail.net, the
# scripted server on 127.0.0.41 whose RCPT replies take 60 ms). Prints one
# "test NAME ... ok|FAILED (detail)" line per test (PROCESS_TESTS_VERBOSE=1: details
# of passing tests too).
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/temp_cluster.sh
TEMP_CLUSTER_PORT=54391

failures=0
report() {  # name, status (0 = pass), detail
  if [ "$2" -eq 0 ]; then echo "test $1 ... ok${PROCESS_TESTS_VERBOSE:+ ($3)}"; else echo "test $1 ... FAILED ($3)"; failures=$((failures + 1)); fi
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

# Background jobs and the standby talk to the scripted server of jobs-mail.net;
# its transcript tells which RCPTs it received. Only the part written after a
# mark (a byte offset) is counted, so a test sees its own traffic only.
it_state=${MAILSENTRY_IT_DIR:-/tmp/mailsentry-it}
jobs_transcript=$it_state/smtp-jobs.jsonl
transcript_mark() { stat -c %s "$jobs_transcript" 2>/dev/null || echo 0; }
# "<count> <address>" for every RCPT TO address after the mark, lower-cased.
rcpt_counts() {
  tail -c +$(($1 + 1)) "$jobs_transcript" | jq -rR 'fromjson? | select(.dir == "C") | .text' |
    sed -nE 's/^RCPT TO:<([^>]*)>.*/\1/Ip' | tr 'A-Z' 'a-z' | sort | uniq -c | awk '{print $1, $2}'
}
# How many RCPT TO:<address> lines came after the mark.
rcpt_count() { rcpt_counts "$1" | awk -v a="${2,,}" '$2 == a {n = $1} END {print n + 0}'; }
# Sets a worker setting (SIGHUP) and waits until the worker has reloaded: a
# reload is done when a new backend sees it, and the worker (woken by the
# signal) rereads the file at once; the extra second covers its current loop.
worker_setting() {
  temp_psql -q -c "ALTER SYSTEM SET $1 = '$2'" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 1
}
worker_setting_reset() {
  temp_psql -q -c "ALTER SYSTEM RESET $1" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 1
}
# A job's state, done and total as "state|done|total".
job_progress() { temp_psql -Atc "SELECT state, done, total FROM mailsentry.jobs WHERE job_id = $1" 2>/dev/null; }

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
# Timed inside the server, so that psql's own start-up does not count.
overflow=$(temp_psql -Atc "DO \$\$
  DECLARE started timestamptz := clock_timestamp();
  BEGIN
    PERFORM verify_email('q17@tarpit-mail.net');
    RAISE NOTICE 'elapsed=% no error', extract(epoch FROM clock_timestamp() - started);
  EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'elapsed=% %', extract(epoch FROM clock_timestamp() - started), SQLERRM;
  END \$\$" 2>&1)
elapsed=$(echo "$overflow" | sed -n 's/.*elapsed=\([0-9.]*\).*/\1/p' | head -n 1)
elapsed=${elapsed:-99}
wait "${pids[@]}"
echo "$overflow" | grep -q "request queue stayed full for 500 ms"; clear=$?
waited=$(echo "$elapsed >= 0.5 && $elapsed < 2.0" | bc)
[[ $clear == 0 && $waited == 1 ]]
report full_queue_waits_then_errors $? "elapsed=${elapsed}s: $overflow"
# ... and once the queue drains, calls go through again.
after=$(temp_psql -Atc "SELECT smtp_valid FROM verify_email('bob@postfix-mail.net')" 2>&1)
report queue_recovers $([ "$after" = t ] && echo 0 || echo 1) "$after"

if [ ! -s "$it_state/scenario-jobs.json" ]; then
  report jobs_server 1 "no scripted server for jobs-mail.net ($it_state/scenario-jobs.json): servers.sh start first"
  temp_cluster_stop
  exit 1
fi

# 4. A job's end is announced on channel mailsentry_jobs with the job id as
#    payload, by the worker. A psql session LISTENs, submits a small job (its
#    own autocommitted statement) and keeps sending short statements: psql
#    prints notifications after each one.
listen_out=$(mktemp /tmp/mailsentry-listen.XXXXXX)
listen_fifo=$(mktemp -u /tmp/mailsentry-listen-fifo.XXXXXX)
mkfifo "$listen_fifo"
temp_psql -At <"$listen_fifo" >"$listen_out" 2>&1 &
listener=$!
exec 7>"$listen_fifo"
echo "LISTEN mailsentry_jobs;" >&7
echo "SELECT 'job=' || mailsentry.submit(ARRAY['n1@jobs-mail.net', 'n2@jobs-mail.net', 'n3@jobs-mail.net']);" >&7
for _ in $(seq 150); do
  echo "SELECT pg_sleep(0.1);" >&7
  sleep 0.1
  grep -q 'Asynchronous notification "mailsentry_jobs"' "$listen_out" && break
done
echo '\q' >&7
exec 7>&-
wait "$listener"
rm -f "$listen_fifo"
job=$(sed -n 's/^job=\([0-9]*\)$/\1/p' "$listen_out")
note=$(grep -m1 'Asynchronous notification "mailsentry_jobs"' "$listen_out")
payload=$(echo "$note" | sed -n 's/.* with payload "\([^"]*\)" received .*/\1/p')
sender=$(echo "$note" | sed -n 's/.* server process with PID \([0-9]*\)\..*/\1/p')
worker=$(temp_psql -Atc "SELECT pid FROM pg_stat_activity WHERE backend_type = 'mailsentry worker'")
progress=$(job_progress "${job:-0}")
notes=$(grep -c 'Asynchronous notification "mailsentry_jobs"' "$listen_out")
[[ -n $job && $payload == "$job" && $notes == 1 && $sender == "$worker" && $progress == "finished|3|3" ]]
report job_notify $? "job=$job payload=$payload notifications=$notes sender=$sender worker=$worker progress=$progress: $(tr '\n' ' ' <"$listen_out" | cut -c1-300)"
rm -f "$listen_out"

# 5. A job survives an immediate restart (a crash: no shutdown checkpoint, the
#    worker killed mid-dialogue). 300 addresses at 60 ms per RCPT over at most
#    2 sessions take several seconds; mid-way the cluster is restarted with
#    pg_ctl -m immediate. Afterwards the worker resumes the job by itself and
#    finishes it. Every address finished before the restart (read before it)
#    was asked exactly once: its committed verdict is not asked again. The
#    others were asked at least once (those in flight at the crash maybe
#    twice). Every 5th address exists (r005, r010, ...), the rest get 550.
worker_setting mailsentry.max_connections_per_mx 2
mark=$(transcript_mark)
job=$(temp_psql -Atc "SELECT mailsentry.submit(array(SELECT format('r%s@jobs-mail.net', lpad(i::text, 3, '0')) FROM generate_series(1, 300) i))")
before=$(mktemp /tmp/mailsentry-before.XXXXXX)
percent="" restarted=1 log_mark=0
for _ in $(seq 600); do
  percent=$(temp_psql -Atc "SELECT coalesce(percent_done, 0) FROM mailsentry.jobs WHERE job_id = $job")
  if [ "$(echo "$percent >= 20" | bc)" = 1 ]; then
    if [ "$(echo "$percent <= 80" | bc)" = 1 ]; then
      temp_psql -Atc "SELECT address FROM mailsentry.job_items WHERE job_id = $job AND verdict IS NOT NULL ORDER BY 1" >"$before"
      log_mark=$(stat -c %s "$TEMP_CLUSTER_DIR/server.log")
      as_postgres "$TEMP_CLUSTER_BIN/pg_ctl" -D "$TEMP_CLUSTER_DIR/data" \
        -l "$TEMP_CLUSTER_DIR/server.log" -m immediate -w restart >/dev/null 2>&1
      restarted=$?
    fi
    break
  fi
  sleep 0.1
done
finished_before=$(wc -l <"$before")
progress=""
if [ "$restarted" = 0 ]; then
  wait_for_worker
  for _ in $(seq 600); do
    progress=$(job_progress "$job")
    [ "$progress" = "finished|300|300" ] && break
    sleep 0.1
  done
fi
# The restart was a crash: no shutdown checkpoint, WAL replayed at start.
recovered=$(tail -c +$((log_mark + 1)) "$TEMP_CLUSTER_DIR/server.log" | grep -c "automatic recovery in progress")
counts=$(mktemp /tmp/mailsentry-counts.XXXXXX)
rcpt_counts "$mark" >"$counts"
# Finished before the restart, asked other than once.
not_once=$(awk -v c="$counts" 'FILENAME == c {n[$2] = $1; next} n[$1] != 1 {printf "%s:%d ", $1, n[$1] + 0}' "$counts" "$before")
# Not finished before the restart, never asked.
never=$(for i in $(seq -f '%03g' 300); do echo "r$i@jobs-mail.net"; done | grep -vxFf "$before" |
  awk -v c="$counts" 'FILENAME == c {n[$2] = $1; next} !n[$1] {printf "%s ", $1}' "$counts" -)
asked_twice=$(awk '$2 ~ /^r[0-9]+@jobs-mail.net$/ && $1 > 1' "$counts" | wc -l)
# The verdicts: the existing addresses smtp_valid and not invalid, the others invalid.
wrong=$(temp_psql -Atc "SELECT string_agg(i.email || '=' || coalesce(i.verdict, 'NULL') || '/' || coalesce(r.smtp_valid::text, 'NULL'), ' ')
  FROM mailsentry.job_items i LEFT JOIN mailsentry.job_results r USING (job_id, item)
  WHERE i.job_id = $job AND (i.verdict IS NULL OR (i.verdict = 'invalid') = (i.item % 5 = 0)
                             OR r.smtp_valid IS DISTINCT FROM (i.item % 5 = 0))")
[[ $restarted == 0 && $recovered -ge 1 && $finished_before -ge 40 && $finished_before -le 260 &&
   $progress == "finished|300|300" && -z $not_once && -z $never && -z $wrong ]]
report job_survives_immediate_restart $? "percent=$percent restarted=$restarted recoveries_logged=$recovered finished_before=$finished_before progress=$progress asked_twice=$asked_twice not_once=[${not_once:0:300}] never=[${never:0:300}] wrong=[${wrong:0:300}]"
rm -f "$before" "$counts"

# 6. Cancelling a running job stops it: with mailsentry.job_concurrency = 5
#    at most 5 of its addresses are in flight at any moment, so after the
#    cancel the mail server sees RCPTs for at most 5 addresses beyond those
#    already finished, and then none at all.
worker_setting mailsentry.job_concurrency 5
mark=$(transcript_mark)
job=$(temp_psql -Atc "SELECT mailsentry.submit(array(SELECT format('c%s@jobs-mail.net', lpad(i::text, 3, '0')) FROM generate_series(1, 200) i))")
# Cancelled once 10 addresses are done and the server has been asked about
# more addresses than are done (some in flight), if that is seen within 30 s.
progress="" asked=0
for _ in $(seq 300); do
  progress=$(job_progress "$job")
  asked=$(rcpt_counts "$mark" | awk '$2 ~ /^c/' | wc -l)
  [[ $progress == running\|* ]] && [ "$(echo "$progress" | cut -d'|' -f2)" -ge 10 ] &&
    [ "$asked" -gt "$(echo "$progress" | cut -d'|' -f2)" ] && break
  sleep 0.05
done
cancelled=$(temp_psql -Atc "SELECT mailsentry.cancel($job)")
finished_at_cancel=$(temp_psql -Atc "SELECT count(*) FROM mailsentry.job_items WHERE job_id = $job AND verdict IS NOT NULL")
sleep 1.5
rcpts_soon=$(rcpt_counts "$mark" | awk '$2 ~ /^c/ {n += $1} END {print n + 0}')
sleep 3
rcpts_later=$(rcpt_counts "$mark" | awk '$2 ~ /^c/ {n += $1} END {print n + 0}')
probed=$(rcpt_counts "$mark" | awk '$2 ~ /^c/' | wc -l)
finished_later=$(temp_psql -Atc "SELECT count(*) FROM mailsentry.job_items WHERE job_id = $job AND verdict IS NOT NULL")
state=$(job_progress "$job")
again=$(temp_psql -Atc "SELECT mailsentry.cancel($job)")
[[ $cancelled == t && $again == f && $state == cancelled\|* && $finished_at_cancel -lt 190 &&
   $rcpts_soon == "$rcpts_later" && $probed -ge $finished_at_cancel &&
   $probed -le $((finished_at_cancel + 5)) && $finished_later -le $((finished_at_cancel + 5)) &&
   $(echo "$state" | cut -d'|' -f2) == "$finished_later" ]]
report job_cancel $? "before=$progress asked=$asked cancel=$cancelled/$again state=$state finished at cancel=$finished_at_cancel later=$finished_later addresses asked=$probed rcpts +1.5s=$rcpts_soon +4.5s=$rcpts_later"
worker_setting_reset mailsentry.job_concurrency
worker_setting_reset mailsentry.max_connections_per_mx

# 7. A hot standby (streaming replication from this cluster): its worker runs,
#    verify_email() there answers from the replicated cache without asking the
#    mail server, and verifies new addresses through its own worker without
#    writing anything (not to its cache, nor the primary's; no worker errors).
STANDBY_PORT=$((TEMP_CLUSTER_PORT + 1))
STANDBY_DIR=""
standby_psql() {
  as_postgres psql -X -h "$STANDBY_DIR" -p "$STANDBY_PORT" -d postgres -v ON_ERROR_STOP=1 "$@"
}
standby_stop() {
  [ -n "$STANDBY_DIR" ] || return 0
  as_postgres "$TEMP_CLUSTER_BIN/pg_ctl" -D "$STANDBY_DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$STANDBY_DIR"
  STANDBY_DIR=""
}
trap 'standby_stop; temp_cluster_stop' EXIT
mark=$(transcript_mark)
primary_answer=$(temp_psql -Atc "SELECT smtp_valid FROM verify_email('sb-cached@jobs-mail.net')" 2>&1)
STANDBY_DIR=$(mktemp -d /tmp/mailsentry-standby.XXXXXX)
chown postgres: "$STANDBY_DIR"
standby_up=1
if as_postgres "$TEMP_CLUSTER_BIN/pg_basebackup" -h "$TEMP_CLUSTER_DIR" -p "$TEMP_CLUSTER_PORT" \
     -D "$STANDBY_DIR/data" -R -X stream -c fast >"$STANDBY_DIR/basebackup.log" 2>&1; then
  {
    echo "# the standby"
    echo "unix_socket_directories = '$STANDBY_DIR'"
    echo "port = $STANDBY_PORT"
    echo "hot_standby = on"
  } >>"$STANDBY_DIR/data/postgresql.conf"
  as_postgres "$TEMP_CLUSTER_BIN/pg_ctl" -D "$STANDBY_DIR/data" -l "$STANDBY_DIR/server.log" \
    -w start >/dev/null 2>&1 && standby_up=0
fi
in_recovery="" standby_worker="" replayed=""
if [ "$standby_up" = 0 ]; then
  in_recovery=$(standby_psql -Atc "SELECT pg_is_in_recovery()")
  for _ in $(seq 100); do
    standby_worker=$(standby_psql -Atc "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'mailsentry worker'")
    replayed=$(standby_psql -Atc "SELECT count(*) FROM mailsentry.cache WHERE address = 'sb-cached@jobs-mail.net'")
    [[ $standby_worker == 1 && $replayed == 1 ]] && break
    sleep 0.1
  done
fi
asked_before=$(rcpt_count "$mark" sb-cached@jobs-mail.net)
cached_answer=$(standby_psql -Atc "SELECT cached, smtp_valid FROM verify_email('sb-cached@jobs-mail.net')" 2>&1)
asked_after=$(rcpt_count "$mark" sb-cached@jobs-mail.net)
new_answer=$(standby_psql -Atc "SELECT cached, smtp_valid FROM verify_email('sb-new@jobs-mail.net')" 2>&1)
unknown_answer=$(standby_psql -Atc "SELECT cached, smtp_valid FROM verify_email('sb-nobody@jobs-mail.net')" 2>&1)
new_asked=$(rcpt_count "$mark" sb-new@jobs-mail.net)
# Nothing was written: the new addresses are in no cache (asked again, the
# answer is not a cached one), neither the standby's nor the primary's.
again_answer=$(standby_psql -Atc "SELECT cached, smtp_valid FROM verify_email('sb-new@jobs-mail.net')" 2>&1)
new_asked_again=$(rcpt_count "$mark" sb-new@jobs-mail.net)
primary_has=$(temp_psql -Atc "SELECT count(*) FROM mailsentry.cache WHERE address LIKE 'sb-n%'")
standby_has=$(standby_psql -Atc "SELECT count(*) FROM mailsentry.cache WHERE address LIKE 'sb-n%'" 2>&1)
worker_started=$(grep -c 'mailsentry worker started' "$STANDBY_DIR/server.log" 2>/dev/null)
errors=$(grep -E 'ERROR|FATAL|PANIC|mailsentry worker: .*failed' "$STANDBY_DIR/server.log" 2>/dev/null | head -3 | tr '\n' ' ')
[[ $primary_answer == t && $standby_up == 0 && $in_recovery == t && $standby_worker == 1 &&
   $replayed == 1 && $worker_started -ge 1 && $asked_before == 1 && $asked_after == 1 &&
   $cached_answer == "t|t" && $new_answer == "f|t" && $unknown_answer == "f|f" && $new_asked == 1 &&
   $again_answer == "f|t" && $primary_has == 0 && $standby_has == 0 && -z $errors ]]
report hot_standby $? "primary=$primary_answer up=$standby_up recovery=$in_recovery worker=$standby_worker/$worker_started replayed=$replayed cached=$cached_answer (asked $asked_before->$asked_after) new=$new_answer (asked $new_asked) unknown=$unknown_answer again=$again_answer (asked $new_asked_again) written: primary=$primary_has standby=$standby_has errors=[$errors] $(tail -c 300 "$STANDBY_DIR/basebackup.log" 2>/dev/null)"
standby_stop

# 8. Domain facts survive a restart: the catch-all status of a domain, found
#    before the restart, is handed back to the new worker, so the next address
#    there needs no catch-all probe (a random 24-character local part).
catchall_transcript=/tmp/mailsentry-it/smtp-catchall.jsonl
catch_all_probes() {
  grep -c '"dir": "C", "text": "RCPT TO:<[a-z0-9]\{24\}@restart-catch.net>' "$catchall_transcript" 2>/dev/null || true
}
first=$(temp_psql -Atc "SELECT catch_all FROM verify_email('before@restart-catch.net', refresh => true)" 2>&1)
persisted=$(temp_psql -Atc "SELECT catch_all FROM mailsentry.domain_facts WHERE domain = 'restart-catch.net'" 2>&1)
probes_before=$(catch_all_probes)
as_postgres "$TEMP_CLUSTER_BIN/pg_ctl" -D "$TEMP_CLUSTER_DIR/data" -m fast -w restart \
  -l "$TEMP_CLUSTER_DIR/server.log" >/dev/null 2>&1
wait_for_worker
sleep 1  # the worker restores the facts in its first round
second=$(temp_psql -Atc "SELECT catch_all FROM verify_email('after@restart-catch.net')" 2>&1)
probes_after=$(catch_all_probes)
[[ $first == t && $persisted == t && $second == t && $probes_before -ge 1 && $probes_after == "$probes_before" ]]
report domain_facts_survive_restart $? "first=$first persisted=$persisted second=$second catch-all probes $probes_before->$probes_after"

# 9. An open circuit breaker survives a restart: three timeouts at the tarpit
#    open it (cooldown 60 s here), the worker saves it in mailsentry.mx_health,
#    and after a restart the next address there fails fast without connecting.
tarpit_transcript=/tmp/mailsentry-it/smtp-tarpit.jsonl
tarpit_connections() { grep -c '"dir": "open"' "$tarpit_transcript" 2>/dev/null || true; }
worker_setting mailsentry.circuit_breaker_cooldown 60s
for i in 1 2 3; do
  temp_psql -Atc "SET mailsentry.smtp_timeouts = '200'; SELECT smtp_valid FROM verify_email('brk$i@tarpit-mail.net', refresh => true)" >/dev/null 2>&1
done
sleep 1.5  # saved within a second of opening
saved=$(temp_psql -Atc "SELECT circuit_breaker_open AND circuit_breaker_open_until > now() + interval '30 seconds' FROM mailsentry.mx_health WHERE mx_host = 'mx.tarpit-mail.net'" 2>&1)
connections_before=$(tarpit_connections)
as_postgres "$TEMP_CLUSTER_BIN/pg_ctl" -D "$TEMP_CLUSTER_DIR/data" -m fast -w restart \
  -l "$TEMP_CLUSTER_DIR/server.log" >/dev/null 2>&1
wait_for_worker
sleep 1  # the worker restores the breakers in its first round
warning=$(temp_psql -Atc "SELECT warning FROM verify_email('brk4@tarpit-mail.net', refresh => true)" 2>&1)
connections_after=$(tarpit_connections)
worker_setting_reset mailsentry.circuit_breaker_cooldown
echo "$warning" | grep -q "circuit breaker open for mx.tarpit-mail.net"; fast=$?
[[ $saved == t && $fast == 0 && $connections_after == "$connections_before" ]]
report breaker_survives_restart $? "saved=$saved connections $connections_before->$connections_after warning=[$warning]"

# 10. Outbound port 25 blocked: connections to three mail hosts in a row are
#     refused, so the worker takes port 25 as blocked from here (stats, one
#     WARNING, a warning on the verdicts it affects, inconclusive and never
#     invalid); it tries one connection a minute and leaves the state when one
#     succeeds. Nothing listens on 127.0.0.56-58 until the test starts a
#     server on the third.
log_mark=$(wc -l <"$TEMP_CLUSTER_DIR/server.log")
refused=$(temp_psql -Atc "SELECT string_agg(verdict, ',' ORDER BY email) FROM verify_emails(ARRAY['a@block1-mail.net', 'a@block2-mail.net', 'a@block3-mail.net'], refresh => true)" 2>&1)
sleep 1.3  # the stats are published each second
blocked=$(temp_psql -Atc "SELECT outbound_smtp || '/' || outbound_smtp_blocked_episodes FROM mailsentry.stats" 2>&1)
implicit=$(temp_psql -Atc "SELECT verdict || '|' || verification_level FROM verify_email('x@refusing-mail.net', refresh => true)" 2>&1)
postfix=$(temp_psql -Atc "SELECT verdict || '|' || (warning LIKE '%outbound SMTP (port 25) seems blocked from this server%') FROM verify_email('alice@postfix-mail.net', refresh => true)" 2>&1)
block_dir=$(mktemp -d /tmp/mailsentry-block.XXXXXX)
cat >"$block_dir/scenario.json" <<'JSON'
{"banner": [220, "mx.block3-mail.net ESMTP scripted"], "capabilities": ["PIPELINING"],
 "recipients": {"a@block3-mail.net": [250, "2.1.5 OK"]}, "default_recipient": [550, "5.1.1 No such user"]}
JSON
setsid python3 test/servers/scripted_smtp.py --host 127.0.0.58 --port 25 --scenario "$block_dir/scenario.json" \
  --transcript "$block_dir/transcript.jsonl" --port-file "$block_dir/port" >"$block_dir/out" 2>&1 </dev/null &
block_server=$!
sleep 61  # the next new connection is allowed a minute after the last refused one
accepted=$(temp_psql -Atc "SELECT smtp_valid FROM verify_email('a@block3-mail.net', refresh => true)" 2>&1)
sleep 1.3
after=$(temp_psql -Atc "SELECT outbound_smtp FROM mailsentry.stats" 2>&1)
kill "$block_server" 2>/dev/null; wait "$block_server" 2>/dev/null
rm -rf "$block_dir"
warnings=$(tail -n +"$((log_mark + 1))" "$TEMP_CLUSTER_DIR/server.log" | grep -c "outbound SMTP (port 25) seems blocked from this server")
[[ $refused == caution,caution,caution && $blocked == blocked/1 && $implicit == "caution|estimated" &&
   $postfix == "caution|true" && $accepted == t && $after == ok && $warnings == 1 ]]
report outbound_port25_blocked $? "refused=$refused stats=$blocked implicit-mx=$implicit postfix=$postfix accepted=$accepted after=$after warnings=$warnings"

# 11. helo_name 'localhost' (the default) is refused by hardened MTAs: the
#     worker says so at start and after a reload that leaves it so.
log_mark=$(wc -l <"$TEMP_CLUSTER_DIR/server.log")
worker_setting mailsentry.helo_name localhost
helo_warned=$(tail -n +"$((log_mark + 1))" "$TEMP_CLUSTER_DIR/server.log" | grep -c 'WARNING:  mailsentry worker: mailsentry.helo_name is "localhost"')
worker_setting_reset mailsentry.helo_name
report helo_localhost_warning $([ "$helo_warned" = 1 ] && echo 0 || echo 1) "warnings=$helo_warned"

temp_cluster_stop

# 12. A fair queue, with the default queue size and caps: two sessions verify
#     600 addresses each at a domain whose DNS never answers; each holds at
#     most mailsentry.queue_slots_per_backend (256) slots, so a third caller
#     gets its answer within its own budget. Cancelling the two frees their
#     slots at once (the worker may still finish and cache the work). Then a
#     per-role cap: two sessions of one login role hold at most
#     mailsentry.queue_slots_per_role slots together; a third session of that
#     role waits and fails with a clear error, another role's call goes through.
temp_cluster_start "mailsentry.database = 'postgres'" "${net_settings[@]}"
temp_psql -q -c "CREATE EXTENSION mailsentry" || { report fair_queue_setup 1 "CREATE EXTENSION"; exit 1; }
wait_for_worker || report fair_queue_worker 1 "no worker"
silent_batch() {  # session label -> a verify_emails call over 600 silent addresses
  echo "SELECT count(*) FROM verify_emails(ARRAY(SELECT '$1' || g || '@silent-mail.net' FROM generate_series(1, 600) g))"
}
held() { temp_psql -Atc "SELECT in_flight + queued FROM mailsentry.stats" 2>&1; }
temp_psql -Atc "$(silent_batch a)" >/dev/null 2>&1 &
first=$!
temp_psql -Atc "$(silent_batch b)" >/dev/null 2>&1 &
second=$!
sleep 2
held_by_two=$(held)
third=$(temp_psql -qAtc "SET statement_timeout = '5s'; SELECT smtp_valid FROM verify_email('alice@postfix-mail.net', refresh => true)" 2>&1)
temp_psql -Atc "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%silent-mail.net%' AND pid <> pg_backend_pid()" >/dev/null 2>&1
wait "$first" "$second" 2>/dev/null
held_after_cancel=$(held)
[[ $held_by_two -gt 0 && $held_by_two -le 512 && $third == t && $held_after_cancel == 0 ]]
report fair_queue_third_caller_answered $? "held by two sessions=$held_by_two third=[$third] held after cancel=$held_after_cancel"

temp_psql -q -c "CREATE ROLE mailsentry_bulk LOGIN; GRANT EXECUTE ON FUNCTION verify_emails(text[], text, boolean), verify_email(text, text, boolean) TO mailsentry_bulk" \
  -c "CREATE ROLE mailsentry_other LOGIN; GRANT EXECUTE ON FUNCTION verify_email(text, text, boolean) TO mailsentry_other" >/dev/null 2>&1
worker_setting mailsentry.queue_slots_per_role 300
temp_psql -U mailsentry_bulk -Atc "$(silent_batch c)" >/dev/null 2>&1 &
first=$!
temp_psql -U mailsentry_bulk -Atc "$(silent_batch d)" >/dev/null 2>&1 &
second=$!
sleep 2
held_by_role=$(held)
same_role=$(temp_psql -U mailsentry_bulk -qAtc "SET mailsentry.queue_wait_timeout = '300ms'; SELECT smtp_valid FROM verify_email('bob@postfix-mail.net', refresh => true)" 2>&1)
other_role=$(temp_psql -U mailsentry_other -qAtc "SET statement_timeout = '5s'; SELECT smtp_valid FROM verify_email('bob@postfix-mail.net', refresh => true)" 2>&1)
temp_psql -Atc "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%silent-mail.net%' AND pid <> pg_backend_pid()" >/dev/null 2>&1
wait "$first" "$second" 2>/dev/null
worker_setting_reset mailsentry.queue_slots_per_role
echo "$same_role" | grep -q "this session's share of the request queue stayed full for 300 ms"; refused=$?
[[ $held_by_role -gt 256 && $held_by_role -le 300 && $refused == 0 && $other_role == t ]]
report fair_queue_role_cap $? "held by one role=$held_by_role same role=[$same_role] other role=[$other_role]"

temp_cluster_stop
exit $(( failures == 0 ? 0 : 1 ))
