#!/usr/bin/env bash
# Runs every test of mailsentry on a fresh Debian 12 machine: installs the
# build dependencies, builds, runs the core unit tests (ctest) and the SQL
# regression and isolation tests on a temporary PostgreSQL instance.
# Ends with one line "N passed, M failed"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/as_root.sh

repo=$(pwd)
logs=$repo/build/test-logs
mkdir -p "$logs"
passed=0
failed=0
status=0

phase() { printf '\n=== %s\n' "$*"; }

phase "dependencies"
bash scripts/install_deps.sh || { echo "installing dependencies failed"; echo "0 passed, 1 failed"; exit 1; }

phase "build and install the extension"
if ! { make -j2 >"$logs/build.log" 2>&1 && make install >>"$logs/build.log" 2>&1; }; then
  tail -n 40 "$logs/build.log"
  echo "0 passed, 1 failed"
  exit 1
fi

phase "core unit tests (ctest)"
if cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$logs/cmake.log" 2>&1 &&
   cmake --build build/cmake -j2 >>"$logs/cmake.log" 2>&1; then
  (cd build/cmake && ctest --output-on-failure -j2) | tee "$logs/ctest.log"
  total=$(sed -n 's/.* tests failed out of \([0-9]*\).*/\1/p' "$logs/ctest.log" | tail -n1)
  bad=$(sed -n 's/.*, \([0-9]*\) tests failed out of .*/\1/p' "$logs/ctest.log" | tail -n1)
  if [ -z "$total" ]; then
    echo "ctest printed no summary"; failed=$((failed + 1)); status=1
  else
    passed=$((passed + total - bad)); failed=$((failed + bad))
    [ "$bad" -eq 0 ] || status=1
  fi
else
  tail -n 40 "$logs/cmake.log"; failed=$((failed + 1)); status=1
fi

phase "SQL regression, isolation and network tests (pg_regress, temporary instances)"
# PostgreSQL refuses to run as root: run the suites as postgres in a copy.
work=$(mktemp -d /tmp/mailsentry-regress.XXXXXX)
cp -a "$repo/." "$work/"
chown -R postgres: "$work"
: >"$logs/installcheck.log"
for suite in installcheck isolationcheck nopreloadcheck; do
  (cd "$work" && runuser -u postgres -- make "$suite") 2>&1 | tee -a "$logs/installcheck.log"
done
# The network suite needs the DNS, SMTP and RDAP servers on loopback.
if bash test/integration/servers.sh start >"$logs/servers.log" 2>&1; then
  (cd "$work" && runuser -u postgres -- make netcheck) 2>&1 | tee -a "$logs/installcheck.log"
  phase "worker process tests (strace, SIGKILL recovery, full queue)"
  # Fresh servers: the SQL suite's greylisting and catch-all memory are gone.
  bash test/integration/servers.sh start >>"$logs/servers.log" 2>&1
  bash test/integration/process_tests.sh 2>&1 | tee -a "$logs/installcheck.log"
else
  tail -n 30 "$logs/servers.log"
  echo "test integration_servers ... FAILED (servers did not start)" | tee -a "$logs/installcheck.log"
fi
bash test/integration/servers.sh stop >>"$logs/servers.log" 2>&1
ok=$(grep -E '\.\.\. ok( |$)' "$logs/installcheck.log" | wc -l)
bad=$(grep -E '\.\.\. FAILED( |$)|\.\.\. failed \(ignored\)' "$logs/installcheck.log" | wc -l)
passed=$((passed + ok)); failed=$((failed + bad))
if [ "$ok" -eq 0 ] || [ "$bad" -ne 0 ]; then
  status=1
  for diffs in "$work"/regression.diffs "$work"/output_iso/regression.diffs; do
    [ -f "$diffs" ] && { echo "--- $diffs"; head -n 200 "$diffs"; cp "$diffs" "$logs/"; }
  done
fi
rm -rf "$work"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
