#!/usr/bin/env bash
# Runs the product on a fresh Debian 12 machine: installs what is needed,
# builds and installs mailsentry, starts local DNS, mail and RDAP servers on
# loopback addresses (test/integration/servers.sh) and a throwaway PostgreSQL
# with the extension preloaded, verifies some addresses, then stops it all.
# Nothing leaves this machine: DNS goes to the local dnsmasq only.
# (On a real server, point mailsentry.dns_servers at a resolver, or leave it
# empty for the system resolver, and drop allow_private_networks.)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/as_root.sh

bash scripts/install_deps.sh
make -s -j2 >/dev/null
make -s install >/dev/null

bash test/integration/servers.sh start >/dev/null
source scripts/temp_cluster.sh
mapfile -t local_servers < <(grep -v '^\s*#' test/integration/pg.conf | grep -v '^\s*$' |
  grep -v 'mailsentry.database\|shared_preload_libraries\|log_smtp_transcripts')
temp_cluster_start "mailsentry.database = 'postgres'" "${local_servers[@]}"
stop_all() { temp_cluster_stop; bash test/integration/servers.sh stop >/dev/null; }
trap stop_all EXIT
temp_psql -q -c "CREATE EXTENSION mailsentry"

temp_psql <<'SQL'
\echo
\echo '== verify_email(): every check, the network ones by the worker (local DNS, Postfix, scripted MTAs)'
SELECT v.email, v.score, v.verdict, v.verification_level AS level, v.smtp_valid, v.catch_all,
       v.mx_records, v.issues, round(v.response_time_ms) AS ms
FROM unnest(ARRAY[
  'alice@postfix-mail.net', 'zed@postfix-mail.net', 'cathy.jones@catchall-mail.net',
  'gary@greylist-mail.net', 'x@nullmx-mail.net', 'bob@implicit-mail.net',
  'yan@young-mail.net', 'lee@listed-mail.net', 'maria.garcia@gmail.com',
  'sales@postfix-mail.net', 'jane@gmial.com', 'not an address']) AS e(addr),
  LATERAL verify_email(e.addr) v;

\echo '== One full result, as JSON'
SELECT jsonb_pretty(verify_email_json('alice@postfix-mail.net'));

\echo '== The verdict cache: a second call needs no network (cached = t)'
SELECT email, verdict, cached, round(response_time_ms::numeric, 3) AS ms
FROM verify_email('alice@postfix-mail.net');

\echo '== verify_emails(): many addresses at once (cache hits first, then as they finish)'
SELECT email, verdict, smtp_valid, cached
FROM verify_emails(ARRAY['alice@postfix-mail.net', 'bob@postfix-mail.net', 'carol@postfix-mail.net',
                         'nobody@postfix-mail.net', 'ed@exists-mail.net', 'not an address']);

\echo '== A background job, then its progress and results'
SELECT mailsentry.submit(ARRAY['dave@postfix-mail.net', 'eve.smith@exists-mail.net',
                               'x@nxdomain-mail.net', 'sales@postfix-mail.net']) AS job \gset
DO $$
BEGIN
  FOR attempt IN 1..100 LOOP
    EXIT WHEN (SELECT state FROM mailsentry.jobs ORDER BY job_id DESC LIMIT 1) = 'finished';
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SELECT job_id, state, total, done, valid, caution, risky, invalid FROM mailsentry.jobs WHERE job_id = :job;
SELECT item, email, verdict, smtp_valid FROM mailsentry.job_results WHERE job_id = :job ORDER BY item;
SELECT worker_state, requests, cache_hits, completed FROM mailsentry.stats;

\echo '== Network-free checks, for CHECK constraints and bulk queries'
SELECT v.email, v.score, v.verdict, v.suggestion, v.issues
FROM unnest(ARRAY[
  'maria.garcia@acme-widgets.com', 'jane@hotmial.con', 'qwertyuiop@acme-widgets.com',
  'jane@mailinator.com', 'noreply@acme-widgets.com', 'mariagarcia+promo@gmail.com']) AS e(addr),
  LATERAL email_check_offline(e.addr) v;
SELECT email_syntax_valid('jane@acme-widgets.com') AS valid,
       email_normalize('Jane@Bücher.Example') AS normalized,
       email_suggest('jane@yahoo.cmo') AS suggestion;
SQL
