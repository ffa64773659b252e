#!/usr/bin/env bash
# A background job of N (1,000,000) addresses: mailsentry.submit() of a
# table's column, in its table form (timed, then cancelled) and as an array
# (timed, then run), progress and the worker's memory sampled
# every INTERVAL (5) seconds while it runs. Run as root after make install
# (or: make bench-job):
#   bash test/bench/job_bench.sh
#
# Its own servers on loopback only (never those of test/integration/servers.sh):
#   127.0.0.168:53  dnsmasq. Of the DOMAINS (1,000) domains, i % DOMAINS picks:
#                   SMTP_DOMAINS (10)  open-store-NNNN.net, MX mx.job-mta.net
#                   NOMX_DOMAINS (90)  nomx-store-NNNN.net, the name exists (TXT)
#                                      but has no MX, A or AAAA: no mail
#                   the others (900)   gone-store-NNNN.net: NXDOMAIN
#                   so most addresses need DNS only (answers cached per domain).
#   127.0.0.166:25  scripted_smtp.py: PIPELINING, answers at once; 60% of its
#                   addresses exist (250), the others get 550 5.1.1
#   a throwaway cluster on port 54397 (scripts/temp_cluster.sh)
# The job is time-boxed: after JOB_SECONDS (300) it is cancelled and the
# progress reached is reported (and what the whole job would take at that rate).
#
# Each sample: mailsentry.jobs (state, done, percent_done, addresses_per_second,
# estimated_time_left) and, from /proc/<pid>/status of the process whose
# pg_stat_activity.backend_type is 'mailsentry worker', VmRSS, VmHWM and
# RssAnon (its private memory: VmRSS also counts the shared buffers it touched).
# At the end: the worker's peak RSS (VmHWM), whether progress advanced in
# every sample, the verdict counts, the DNS queries dnsmasq answered and the
# scripted server's SMTP counts.
#
# mailsentry.domain_age = off and mailsentry.dnsbl_zones = '': RDAP servers
# are rate limited per registry (mailsentry.rdap_min_interval: 1,000 domains
# would take minutes of waiting on the rate limit, not work) and blocklists are
# other servers; neither is what this measures (the job machinery).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/as_root.sh
source scripts/temp_cluster.sh
source test/bench/bench_servers.sh
TEMP_CLUSTER_PORT=54397
N=${N:-1000000}
DOMAINS=${DOMAINS:-1000}
SMTP_DOMAINS=${SMTP_DOMAINS:-10}
NOMX_DOMAINS=${NOMX_DOMAINS:-90}
JOB_SECONDS=${JOB_SECONDS:-300}
INTERVAL=${INTERVAL:-5}
JOB_CONCURRENCY=${JOB_CONCURRENCY:-}   # empty: the default of mailsentry.job_concurrency
DNS_IP=127.0.0.168 MTA_IP=127.0.0.166
status=0
((SMTP_DOMAINS + NOMX_DOMAINS <= DOMAINS)) || bench_fail "SMTP_DOMAINS + NOMX_DOMAINS > DOMAINS"

bench_servers_init job
# shellcheck disable=SC2317  # run by the EXIT trap
stop_all() { temp_cluster_stop; bench_servers_stop; }
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Address i (1..N): <name>.<i>@<kind>-store-<i % DOMAINS, 4 digits>.net; at the
# scripted server it exists when (i / DOMAINS) % 5 < 3. The SQL below builds
# the same addresses.
"$BENCH_PYTHON" - "$BENCH_STATE" "$N" "$DOMAINS" "$SMTP_DOMAINS" "$NOMX_DOMAINS" "$MTA_IP" <<'PY'
import json, sys
state, n, domains, smtp_domains, nomx_domains, ip = sys.argv[1], *map(int, sys.argv[2:6]), sys.argv[6]
NAMES = ["anna", "bruno", "carla", "david", "elena", "felix", "greta", "hugo", "irene", "jonas"]
scenario = {
    "banner": [220, "job-mta.bench ESMTP"],
    "capabilities": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"],
    "recipients": {f"{NAMES[i % 10]}.{i}@open-store-{i % domains:04d}.net": [250, "2.1.5 OK"]
                   for i in range(1, n + 1) if i % domains < smtp_domains and (i // domains) % 5 < 3},
    "default_recipient": [550, "5.1.1 No such user"],
}
with open(f"{state}/mta.json", "w", encoding="utf-8") as f:
    json.dump(scenario, f)
with open(f"{state}/zones.conf", "w", encoding="utf-8") as f:
    f.write(f"host-record=mx.job-mta.net,{ip}\n")
    for d in range(smtp_domains):
        f.write(f"mx-host=open-store-{d:04d}.net,mx.job-mta.net,10\n")
    for d in range(smtp_domains, smtp_domains + nomx_domains):
        f.write(f'txt-record=nomx-store-{d:04d}.net,"v=spf1 -all"\n')
    # gone-store-NNNN.net: not listed, so NXDOMAIN (local=/net/).
PY
bench_start_dns "$DNS_IP" "$BENCH_STATE/zones.conf"
bench_start_smtp mta "$MTA_IP" "$BENCH_STATE/mta.json"
bench_wait_ready \
  "dnsmasq dns open-store-0001.net MX --server $DNS_IP --answer '10 mx.job-mta.net'" \
  "dnsmasq dns nomx-store-$(printf %04d "$SMTP_DOMAINS").net MX --server $DNS_IP" \
  "dnsmasq dns gone-store-0999.net MX --server $DNS_IP --rcode NXDOMAIN" \
  "smtp-mta banner $MTA_IP --transcript $BENCH_STATE/smtp-mta.jsonl"
bench_servers_only \
  "dns open-store-0009.net MX --server $DNS_IP --answer '10 mx.job-mta.net'" \
  "dns open-store-0010.net MX --server $DNS_IP --rcode NXDOMAIN" \
  "dns nomx-store-0010.net MX --server $DNS_IP --rcode NOERROR" \
  "dns nomx-store-0010.net A --server $DNS_IP --rcode NOERROR" \
  "dns gone-store-0500.net MX --server $DNS_IP --rcode NXDOMAIN" \
  "rcpt $MTA_IP bruno.1@open-store-0001.net=250/2.1.5 bruno.3001@open-store-0001.net=550/5.1.1" \
  "pipeline $MTA_IP --pipelining yes bruno.1@open-store-0001.net=250 bruno.3001@open-store-0001.net=550 \
     carla.2002@open-store-0002.net=250 jonas.4009@open-store-0009.net=550"

conf=("mailsentry.database = 'postgres'"
  "mailsentry.dns_servers = '$DNS_IP'"
  "mailsentry.smtp_port = 25"
  "mailsentry.allow_private_networks = on"
  "mailsentry.domain_age = off"
  "mailsentry.dnsbl_zones = ''"
  "mailsentry.log_smtp_transcripts = off"
  "mailsentry.helo_name = 'mailsentry.bench'"
  "mailsentry.mail_from = 'probe@mailsentry-bench.org'")
[[ -z $JOB_CONCURRENCY ]] || conf+=("mailsentry.job_concurrency = $JOB_CONCURRENCY")
temp_cluster_start "${conf[@]}"
trap stop_all EXIT  # temp_cluster_start set its own
temp_psql -q -c "CREATE EXTENSION mailsentry"

echo "== job_bench: a job of $N addresses over $DOMAINS domains ($SMTP_DOMAINS at a scripted SMTP" \
  "server, $NOMX_DOMAINS without mail servers, $((DOMAINS - SMTP_DOMAINS - NOMX_DOMAINS)) NXDOMAIN)," \
  "time box $JOB_SECONDS s, a sample every $INTERVAL s"
temp_psql -Atq -c "SELECT 'settings: ' || string_agg(name || ' = ' || current_setting(name), ', ' ORDER BY name)
  FROM pg_settings WHERE name IN ('mailsentry.job_concurrency', 'mailsentry.max_connections_per_mx',
    'mailsentry.cache_ttl', 'mailsentry.domain_age', 'mailsentry.dnsbl_zones', 'mailsentry.dns_servers',
    'shared_buffers')"

# The addresses as a table (not timed): submit reads them in the caller's
# session, in both forms.
temp_psql -q <<SQL
CREATE TABLE job_input AS
  SELECT (ARRAY['anna','bruno','carla','david','elena','felix','greta','hugo','irene','jonas'])[1 + i % 10]
         || '.' || i || '@'
         || CASE WHEN i % $DOMAINS < $SMTP_DOMAINS THEN 'open'
                 WHEN i % $DOMAINS < $((SMTP_DOMAINS + NOMX_DOMAINS)) THEN 'nomx'
                 ELSE 'gone' END
         || '-store-' || lpad((i % $DOMAINS)::text, 4, '0') || '.net' AS email
  FROM generate_series(1, $N) i;
SQL
# The table form first; it is cancelled at once (the job followed below is
# the array form's), so only its submission is measured.
submit_started=$(date +%s.%N)
table_job=$(temp_psql -Atq -c "SELECT mailsentry.submit('job_input'::regclass, 'email')")
table_submit_seconds=$(bench_calc "$(date +%s.%N) - $submit_started" 2)
temp_psql -Atq -c "SELECT mailsentry.cancel($table_job)" >/dev/null
table_total=$(temp_psql -Atq -c "SELECT total FROM mailsentry.jobs WHERE job_id = $table_job")
echo "table form: mailsentry.submit('job_input'::regclass, 'email') of $table_total addresses in" \
  "$table_submit_seconds s (target <= 5 s); cancelled at once"
submit_started=$(date +%s.%N)
job=$(temp_psql -Atq -c "SELECT mailsentry.submit(ARRAY(SELECT email FROM job_input), 'standard', 'job_bench')")
submit_seconds=$(bench_calc "$(date +%s.%N) - $submit_started" 2)
total=$(temp_psql -Atq -c "SELECT total FROM mailsentry.jobs WHERE job_id = $job")
echo "array form: mailsentry.submit(ARRAY(SELECT email FROM job_input)) of $total addresses in" \
  "$submit_seconds s (target <= 5 s): job $job"
[[ $total == "$N" ]] || {
  echo "WRONG: the job holds $total addresses, not $N"
  status=1
}

# Prints "VmRSS VmHWM RssAnon" of a pid in MiB ("- - -" when it is gone).
memory_of() {
  [[ -r /proc/$1/status ]] || {
    echo "- - -"
    return
  }
  awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} /^RssAnon:/ {a = $2}
       END {if (r == "") print "- - -"; else printf "%.1f %.1f %.1f\n", r / 1024, h / 1024, a / 1024}' \
    "/proc/$1/status"
}

echo
printf '%7s  %-9s  %9s  %7s  %9s  %9s  %7s  %9s  %9s  %9s  %s\n' elapsed state 'done' percent addr/s \
  eta_left pid VmRSS_MiB VmHWM_MiB anon_MiB progress
started=$SECONDS
prev_done=0 samples=0 stalled=0 pids="" peak_hwm=0 peak_anon=0 worker_pid="" state=queued ndone=0
while :; do
  sleep "$INTERVAL"
  row=$(temp_psql -Atq -F '|' -c "SELECT j.state, j.done, coalesce(j.percent_done::text, '-'),
      coalesce(j.addresses_per_second::text, '-'),
      coalesce(to_char(j.estimated_time_left, 'HH24:MI:SS'), '-'),
      coalesce((SELECT a.pid FROM pg_stat_activity a WHERE a.backend_type = 'mailsentry worker'
                ORDER BY a.backend_start DESC LIMIT 1)::text, '-')
    FROM mailsentry.jobs j WHERE j.job_id = $job")
  IFS='|' read -r state ndone percent rate eta worker_pid <<<"$row"
  read -r rss hwm anon <<<"$(memory_of "$worker_pid")"
  samples=$((samples + 1))
  if ((ndone > prev_done)); then
    progress="+$((ndone - prev_done))"
  elif [[ $state == finished ]]; then
    progress="(finished)"  # nothing left to advance: not a stall
  else
    progress=STALLED
    [[ $state != queued ]] || progress="STALLED (not started)"
    stalled=$((stalled + 1))
  fi
  [[ " $pids " == *" $worker_pid "* ]] || pids="$pids $worker_pid"
  [[ $hwm == - ]] || peak_hwm=$(echo "if ($hwm > $peak_hwm) $hwm else $peak_hwm" | bc)
  [[ $anon == - ]] || peak_anon=$(echo "if ($anon > $peak_anon) $anon else $peak_anon" | bc)
  printf '%6ss  %-9s  %9s  %7s  %9s  %9s  %7s  %9s  %9s  %9s  %s\n' $((SECONDS - started)) "$state" \
    "$ndone" "$percent" "$rate" "$eta" "$worker_pid" "$rss" "$hwm" "$anon" "$progress"
  prev_done=$ndone
  [[ $state == finished || $state == cancelled ]] && break
  ((SECONDS - started < JOB_SECONDS)) || break
done

echo
time_boxed=no
if [[ $state != finished && $state != cancelled ]]; then
  time_boxed=yes
  temp_psql -Atq -c "SELECT mailsentry.cancel($job)" >/dev/null
  echo "time box of $JOB_SECONDS s reached: job cancelled at $ndone of $N addresses" \
    "($(bench_calc "100 * $ndone / $N" 1)%)"
fi
# The high-water mark only grows: read it once more at the end.
[[ $worker_pid == - ]] || read -r _ final_hwm _ <<<"$(memory_of "$worker_pid")"
[[ ${final_hwm:--} == - ]] || peak_hwm=$(echo "if ($final_hwm > $peak_hwm) $final_hwm else $peak_hwm" | bc)
temp_psql -Atq <<SQL
SELECT format('job %s: state %s, %s of %s done (%s%%) in %s, %s addresses/s; verdicts valid %s, caution %s, risky %s, invalid %s',
              job_id, state, done, total, percent_done,
              date_trunc('second', coalesce(finished_at, now()) - started_at), addresses_per_second,
              valid, caution, risky, invalid)
FROM mailsentry.jobs WHERE job_id = $job;
SELECT format('the worker started the job %s s after it was submitted',
              round(extract(epoch FROM started_at - submitted_at)::numeric, 1))
FROM mailsentry.jobs WHERE job_id = $job;
SELECT 'items by verdict: ' || string_agg(coalesce(verdict, 'not done') || ' ' || n, ', ' ORDER BY verdict)
FROM (SELECT verdict, count(*) AS n FROM mailsentry.job_items WHERE job_id = $job GROUP BY verdict) v;
SQL
if [[ $time_boxed == yes && $ndone -gt 0 ]]; then
  rate=$(temp_psql -Atq -c "SELECT done / extract(epoch FROM coalesce(finished_at, now()) - started_at)
    FROM mailsentry.jobs WHERE job_id = $job")
  echo "at that rate the whole job would take about $(bench_calc "$N / $rate" 0) s"
fi
echo "worker peak RSS (VmHWM): ${peak_hwm} MiB; peak private memory seen (RssAnon): ${peak_anon} MiB;" \
  "worker pid(s):${pids}"
[[ $(wc -w <<<"$pids") -le 1 ]] || {
  echo "WARNING: the worker's pid changed during the job (restarted?)"
  status=1
}
if ((stalled == 0)); then
  echo "progress advanced in every sample ($samples samples)"
else
  echo "progress did NOT advance in $stalled of $samples samples"
  status=1
fi
echo "dnsmasq: $(bench_dns_queries)"
echo "scripted SMTP server: $(bench_transcript_counts "$BENCH_STATE/smtp-mta.jsonl")"

echo
echo "reproduce: N=$N DOMAINS=$DOMAINS SMTP_DOMAINS=$SMTP_DOMAINS NOMX_DOMAINS=$NOMX_DOMAINS" \
  "JOB_SECONDS=$JOB_SECONDS INTERVAL=$INTERVAL${JOB_CONCURRENCY:+ JOB_CONCURRENCY=$JOB_CONCURRENCY}" \
  "bash test/bench/job_bench.sh   (make bench-job: defaults, after make install)"
bench_machine
exit "$status"
