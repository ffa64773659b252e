#!/usr/bin/env bash
# Runs the product on a fresh Debian 12 machine: installs what is needed,
# builds and installs mailsentry, starts a throwaway PostgreSQL with the
# library preloaded, verifies some addresses, then stops and removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/as_root.sh

bash scripts/install_deps.sh
make -s -j2 >/dev/null
make -s install >/dev/null

source scripts/temp_cluster.sh
temp_cluster_start
temp_psql -q -c "CREATE EXTENSION mailsentry"
temp_psql <<'SQL'
\echo
\echo '== Network-free verification of a few addresses'
SELECT v.email, v.score, v.verdict, v.recommendation, v.suggestion, v.issues
FROM unnest(ARRAY[
  'maria.garcia@acme-widgets.com', 'jane@gmial.com', 'sales@acme-widgets.com',
  'qwertyuiop@acme-widgets.com', 'jane@mailinator.com', 'noreply@acme-widgets.com',
  'mariagarcia+promo@gmail.com', 'not an address']) AS e(addr),
  LATERAL email_check_offline(e.addr) v;

\echo '== One full result'
\x on
SELECT * FROM email_check_offline('Jane.Doe@Bücher.example');
\x off

\echo '== The functions for CHECK constraints'
SELECT email_syntax_valid('jane@acme-widgets.com') AS valid,
       email_normalize('Jane@ACME-Widgets.COM') AS normalized,
       email_suggest('jane@hotmial.con') AS suggestion;
SQL
