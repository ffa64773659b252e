#!/usr/bin/env bash
# Bulk verification: verify_emails() over 5,000 distinct addresses against
# one slow mail server, compared with the ideal, and with verify_email() row
# by row. Run as root after make install (or: make bench-bulk):
#   bash test/bench/bulk_bench.sh
#
# Its own servers on loopback only (never those of test/integration/servers.sh):
#   127.0.0.153:53  dnsmasq: 50 domains pipe-store-01..50.net, MX mx.pipe-mta.net,
#                   and 50 domains plain-store-01..50.net, MX mx.plain-mta.net
#   127.0.0.151:25  scripted_smtp.py "pipe": offers PIPELINING, answers each command
#                   20 ms after it arrives (reply_timing "arrival": pipelined
#                   commands overlap, replies stay in order)
#   127.0.0.152:25  scripted_smtp.py "plain": the same without PIPELINING
#   a throwaway cluster on port 54396 (scripts/temp_cluster.sh)
# On both servers 60% of the addresses exist (250); the others get 550 5.1.1
# (no catch-all). All 50 domains of a server share ONE MX host name, so
# mailsentry.max_connections_per_mx = 4 bounds the sessions to that server.
#
# 1. verify_emails() over 5,000 addresses at the PIPELINING server: wall time
#    against the ideal 5,000 x 20 ms / 4 sessions = 25 s (target <= 1.3 x = 32.5 s),
#    smtp_valid true/false counts against 60% / 40%;
# 2. the same at the server without PIPELINING;
# 3. verify_email() one address after another (SAMPLE fresh addresses,
#    refresh => true, PIPELINING server), extrapolated to 5,000.
# For each, from the server's transcript: SMTP connections opened, MAIL FROM
# and RCPT TO commands, peak simultaneous connections.
#
# mailsentry.domain_age = off and mailsentry.dnsbl_zones = '': RDAP servers
# are rate limited per registry (mailsentry.rdap_min_interval) and blocklists
# are other servers' latency; neither is what this measures (SMTP throughput).
# mailsentry.verify_timeout is raised to VERIFY_TIMEOUT (300 s) so that a slow
# run shows up as a slow time, not as timed-out (NULL) verdicts.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/as_root.sh
source scripts/temp_cluster.sh
source test/bench/bench_servers.sh
TEMP_CLUSTER_PORT=54396
N=${N:-5000}                 # addresses per server (50 domains)
SAMPLE=${SAMPLE:-300}        # row-by-row sample
DELAY_MS=${DELAY_MS:-20}     # the servers' reply delay
MAX_CONN=${MAX_CONN:-4}      # mailsentry.max_connections_per_mx
VERIFY_TIMEOUT=${VERIFY_TIMEOUT:-300s}
DOMAINS=50
DNS_IP=127.0.0.153 PIPE_IP=127.0.0.151 PLAIN_IP=127.0.0.152
status=0

bench_servers_init bulk
# shellcheck disable=SC2317  # run by the EXIT trap
stop_all() { temp_cluster_stop; bench_servers_stop; }
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Addresses: <name>.<i>@<server>-store-<01..50>.net, i = 1..N (+ SAMPLE more
# at the PIPELINING server for step 3). Address i exists when (i / 50) % 5 < 3:
# 60% of each domain. The SQL below builds the same addresses.
"$BENCH_PYTHON" - "$BENCH_STATE" "$N" "$SAMPLE" "$DELAY_MS" "$DOMAINS" "$PIPE_IP" "$PLAIN_IP" <<'PY'
import json, sys
state, n, sample, delay, domains, pipe_ip, plain_ip = sys.argv[1:]
n, sample, delay, domains = int(n), int(sample), int(delay), int(domains)
NAMES = ["anna", "bruno", "carla", "david", "elena", "felix", "greta", "hugo", "irene", "jonas"]

def address(i, server):
    return f"{NAMES[i % 10]}.{i}@{server}-store-{1 + i % domains:02d}.net"

def exists(i):
    return (i // domains) % 5 < 3

for server, last, caps in (("pipe", n + sample, ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"]),
                           ("plain", n, ["8BITMIME", "ENHANCEDSTATUSCODES"])):
    scenario = {
        "banner": [220, f"{server}-mta.bench ESMTP"],
        "capabilities": caps,
        "delays_ms": {"*": delay},
        "reply_timing": "arrival",
        "recipients": {address(i, server): [250, "2.1.5 OK"]
                       for i in range(1, last + 1) if exists(i)},
        "default_recipient": [550, "5.1.1 No such user"],
    }
    with open(f"{state}/{server}.json", "w", encoding="utf-8") as f:
        json.dump(scenario, f)
with open(f"{state}/zones.conf", "w", encoding="utf-8") as f:
    for server, ip in (("pipe", pipe_ip), ("plain", plain_ip)):
        f.write(f"host-record=mx.{server}-mta.net,{ip}\n")
        for d in range(1, domains + 1):
            f.write(f"mx-host={server}-store-{d:02d}.net,mx.{server}-mta.net,10\n")
PY
bench_start_dns "$DNS_IP" "$BENCH_STATE/zones.conf"
bench_start_smtp pipe "$PIPE_IP" "$BENCH_STATE/pipe.json"
bench_start_smtp plain "$PLAIN_IP" "$BENCH_STATE/plain.json"
bench_wait_ready \
  "dnsmasq dns pipe-store-07.net MX --server $DNS_IP --answer '10 mx.pipe-mta.net'" \
  "dnsmasq dns mx.plain-mta.net A --server $DNS_IP --answer $PLAIN_IP" \
  "dnsmasq dns unknown-store.net MX --server $DNS_IP --rcode NXDOMAIN" \
  "smtp-pipe banner $PIPE_IP --transcript $BENCH_STATE/smtp-pipe.jsonl" \
  "smtp-plain banner $PLAIN_IP --transcript $BENCH_STATE/smtp-plain.jsonl"
bench_servers_only \
  "dns pipe-store-50.net MX --server $DNS_IP --answer '10 mx.pipe-mta.net'" \
  "dns plain-store-01.net MX --server $DNS_IP --answer '10 mx.plain-mta.net'" \
  "dns mx.pipe-mta.net A --server $DNS_IP --answer $PIPE_IP" \
  "rcpt $PIPE_IP bruno.1@pipe-store-02.net=250/2.1.5 anna.150@pipe-store-01.net=550/5.1.1" \
  "pipeline $PIPE_IP --pipelining yes bruno.1@pipe-store-02.net=250 anna.150@pipe-store-01.net=550 \
     bruno.$((N + 1))@pipe-store-02.net=250 carla.$((N + 2))@pipe-store-03.net=250 nobody@pipe-store-04.net=550" \
  "pipeline $PLAIN_IP --pipelining no bruno.1@plain-store-02.net=250 anna.150@plain-store-01.net=550 \
     bruno.$((N + 1))@plain-store-02.net=550 nobody@plain-store-04.net=550"

temp_cluster_start "mailsentry.database = 'postgres'" \
  "mailsentry.dns_servers = '$DNS_IP'" \
  "mailsentry.smtp_port = 25" \
  "mailsentry.allow_private_networks = on" \
  "mailsentry.domain_age = off" \
  "mailsentry.dnsbl_zones = ''" \
  "mailsentry.max_connections_per_mx = $MAX_CONN" \
  "mailsentry.verify_timeout = '$VERIFY_TIMEOUT'" "mailsentry.max_verify_timeout = '$VERIFY_TIMEOUT'" \
  "mailsentry.log_smtp_transcripts = off" \
  "mailsentry.helo_name = 'mailsentry.bench'" \
  "mailsentry.mail_from = 'probe@mailsentry-bench.org'"
trap stop_all EXIT  # temp_cluster_start set its own

temp_psql -q <<SQL
CREATE EXTENSION mailsentry;
CREATE TABLE bulk_addrs (server text, i int, email text, expect_valid boolean,
                         PRIMARY KEY (server, i));
INSERT INTO bulk_addrs
  SELECT s.server, i,
         (ARRAY['anna','bruno','carla','david','elena','felix','greta','hugo','irene','jonas'])[1 + i % 10]
           || '.' || i || '@' || s.server || '-store-' || lpad((1 + i % $DOMAINS)::text, 2, '0') || '.net',
         (i / $DOMAINS) % 5 < 3
  FROM (VALUES ('pipe', $N + $SAMPLE), ('plain', $N)) s(server, last),
       generate_series(1, s.last) i;

-- One verify_emails() call over the first N addresses of a server.
CREATE FUNCTION bench_bulk(srv text) RETURNS TABLE (seconds numeric, n bigint, valid bigint,
    invalid bigint, unknown bigint, cached bigint, wrong bigint)
LANGUAGE plpgsql AS \$\$
DECLARE
  addrs text[] := ARRAY(SELECT email FROM bulk_addrs WHERE server = srv AND i <= $N ORDER BY i);
  t0 timestamptz;
BEGIN
  t0 := clock_timestamp();
  SELECT count(*), count(*) FILTER (WHERE v.smtp_valid), count(*) FILTER (WHERE NOT v.smtp_valid),
         count(*) FILTER (WHERE v.smtp_valid IS NULL), count(*) FILTER (WHERE v.cached),
         count(*) FILTER (WHERE v.smtp_valid IS DISTINCT FROM b.expect_valid)
    INTO n, valid, invalid, unknown, cached, wrong
    FROM verify_emails(addrs) v LEFT JOIN bulk_addrs b ON b.server = srv AND b.email = v.email;
  seconds := round(extract(epoch FROM clock_timestamp() - t0)::numeric, 2);
  RETURN NEXT;
END \$\$;

-- verify_email() one address after another over the SAMPLE addresses after
-- the first N (never verified before), refresh => true.
CREATE FUNCTION bench_row_by_row(srv text) RETURNS TABLE (seconds numeric, n bigint, valid bigint,
    invalid bigint, unknown bigint, cached bigint, wrong bigint, median_ms numeric)
LANGUAGE plpgsql AS \$\$
DECLARE
  a record;
  v email_verification;
  times float8[] := '{}';
  t0 timestamptz;
BEGIN
  n := 0; valid := 0; invalid := 0; unknown := 0; cached := 0; wrong := 0;
  t0 := clock_timestamp();
  FOR a IN SELECT email, expect_valid FROM bulk_addrs WHERE server = srv AND i > $N ORDER BY i LOOP
    v := verify_email(a.email, 'standard', true);
    n := n + 1;
    IF v.smtp_valid THEN valid := valid + 1;
    ELSIF NOT v.smtp_valid THEN invalid := invalid + 1;
    ELSE unknown := unknown + 1;
    END IF;
    IF v.cached THEN cached := cached + 1; END IF;
    IF v.smtp_valid IS DISTINCT FROM a.expect_valid THEN wrong := wrong + 1; END IF;
    times := times || v.response_time_ms;
  END LOOP;
  seconds := round(extract(epoch FROM clock_timestamp() - t0)::numeric, 2);
  median_ms := (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 2)
                FROM unnest(times) x);
  RETURN NEXT;
END \$\$;
SQL

ideal=$(bench_calc "$N * $DELAY_MS / 1000 / $MAX_CONN")
target=$(bench_calc "$ideal * 1.3")
expect_valid=$(temp_psql -Atq -c "SELECT count(*) FILTER (WHERE expect_valid) FROM bulk_addrs WHERE server = 'pipe' AND i <= $N")
expect_invalid=$((N - expect_valid))
echo "== bulk_bench: $N addresses over $DOMAINS domains per server, one MX host each," \
  "$DELAY_MS ms per reply, max_connections_per_mx = $MAX_CONN"
temp_psql -Atq -c "SELECT 'settings: ' || string_agg(name || ' = ' || current_setting(name), ', ' ORDER BY name)
  FROM pg_settings WHERE name IN ('mailsentry.max_connections_per_mx', 'mailsentry.max_recipients_per_session',
    'mailsentry.max_rejections_per_session', 'mailsentry.idle_session_timeout', 'mailsentry.verify_timeout', 'mailsentry.max_verify_timeout',
    'mailsentry.domain_age', 'mailsentry.dnsbl_zones', 'mailsentry.dns_servers')"
echo "expected: $expect_valid exist (smtp_valid true), $expect_invalid do not (false)"
echo "ideal: $N x $DELAY_MS ms / $MAX_CONN = ${ideal} s; target <= ${target} s"

# run_bulk <server> <label>: prints the result and the server's counts.
run_bulk() {
  local server=$1 label=$2 from row seconds n valid invalid unknown cached wrong verdict
  from=$(bench_lines "$BENCH_STATE/smtp-$server.jsonl")
  row=$(temp_psql -Atq -F' ' -c "SELECT * FROM bench_bulk('$server')")
  read -r seconds n valid invalid unknown cached wrong <<<"$row"
  verdict=ok
  if [[ $n != "$N" || $valid != "$expect_valid" || $invalid != "$expect_invalid" || $wrong != 0 ]]; then
    verdict=WRONG
    status=1
  fi
  echo
  echo "== $label"
  echo "verify_emails(ARRAY[$N addresses]): ${seconds} s" \
    "($(bench_calc "$seconds / $ideal") x the ideal ${ideal} s; target <= ${target} s:" \
    "$(if (($(echo "$seconds <= $target" | bc))); then echo met; else echo MISSED; fi))"
  echo "rows $n; smtp_valid true $valid, false $invalid, NULL $unknown (expected $expect_valid / $expect_invalid / 0):" \
    "$verdict; $wrong rows differ from the expected answer; cached $cached"
  echo "rate: $(bench_calc "$n / $seconds" 1) addresses/s"
  echo "server transcript: $(bench_transcript_counts "$BENCH_STATE/smtp-$server.jsonl" "$from")"
  if [[ $verdict != ok ]]; then
    echo "why some answers are missing (cached warnings, most frequent first):"
    temp_psql -Atq -c "SELECT count(*) || ' x ' || array_to_string(warnings, '; ')
                       FROM mailsentry.cache WHERE domain LIKE '%$server%' AND smtp_outcome <> 'exists'
                         AND smtp_outcome <> 'does_not_exist'
                       GROUP BY warnings ORDER BY count(*) DESC LIMIT 5"
  fi
  BULK_SECONDS=$seconds
}

run_bulk pipe "1. verify_emails, server WITH PIPELINING ($PIPE_IP)"
pipe_seconds=$BULK_SECONDS
run_bulk plain "2. verify_emails, server WITHOUT PIPELINING ($PLAIN_IP)"
plain_seconds=$BULK_SECONDS

echo
echo "== 3. verify_email row by row: $SAMPLE fresh addresses one after another, refresh => true (PIPELINING server)"
from=$(bench_lines "$BENCH_STATE/smtp-pipe.jsonl")
row=$(temp_psql -Atq -F' ' -c "SELECT * FROM bench_row_by_row('pipe')")
read -r seconds n valid invalid unknown cached wrong median <<<"$row"
per_call=$(bench_calc "$seconds * 1000 / $n")
extrapolated=$(bench_calc "$seconds * $N / $n" 1)
echo "$n calls: ${seconds} s, ${per_call} ms per call (median response_time_ms ${median});" \
  "smtp_valid true $valid, false $invalid, NULL $unknown; $wrong differ from the expected answer; cached $cached"
echo "server transcript: $(bench_transcript_counts "$BENCH_STATE/smtp-pipe.jsonl" "$from")"
[[ $wrong == 0 && $cached == 0 ]] || status=1
echo
echo "== summary"
echo "ideal (one $DELAY_MS ms reply per address, $MAX_CONN sessions): ${ideal} s"
echo "verify_emails, $N addresses, PIPELINING:       ${pipe_seconds} s"
echo "verify_emails, $N addresses, no PIPELINING:    ${plain_seconds} s"
echo "verify_email row by row, extrapolated to $N: ${extrapolated} s" \
  "($(bench_calc "$extrapolated / $pipe_seconds" 1) x verify_emails with PIPELINING)"

echo
echo "reproduce: N=$N SAMPLE=$SAMPLE DELAY_MS=$DELAY_MS MAX_CONN=$MAX_CONN VERIFY_TIMEOUT=$VERIFY_TIMEOUT" \
  "bash test/bench/bulk_bench.sh   (make bench-bulk: defaults, after make install)"
bench_machine
exit "$status"
