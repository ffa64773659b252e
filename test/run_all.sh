#!/usr/bin/env bash
# Runs every test of mailsentry on a fresh Debian 12 machine: installs the
# build dependencies, builds, runs the core unit tests (ctest) and the SQL
# regression and isolation tests on a temporary PostgreSQL instance, the
# network suites, process tests and pg_dump round trip, the fuzz targets,
# the unit tests under sanitizers and the soak test's short form.
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
: >"$logs/regression.diffs"
# Runs one suite (a make target, make arguments after it); shows and keeps
# its diffs, which the next suite's run would remove.
run_suite() {
  (cd "$work" && runuser -u postgres -- make "$@") 2>&1 | tee -a "$logs/installcheck.log"
  local diffs
  for diffs in "$work"/test/regress/out/*/regression.diffs; do
    [ -f "$diffs" ] || continue
    echo "--- $* ($diffs)"
    head -n 200 "$diffs"
    cat "$diffs" >>"$logs/regression.diffs"
    rm -f "$diffs"
  done
}
for suite in installcheck isolationcheck nopreloadcheck; do run_suite "$suite"; done
# The network suite needs the DNS, SMTP and RDAP servers on loopback.
if bash test/integration/servers.sh start >"$logs/servers.log" 2>&1; then
  run_suite netcheck
  phase "the same suites under parallel plans (test/regress/parallel.conf)"
  for suite in installcheck isolationcheck nopreloadcheck; do run_suite "$suite" PARALLEL=1; done
  # Fresh servers for each network pass: greylisting and catch-all memory.
  bash test/integration/servers.sh start >>"$logs/servers.log" 2>&1
  run_suite netcheck PARALLEL=1
  phase "worker process tests (strace, SIGKILL recovery, full queue, port 25 blocked)"
  bash test/integration/servers.sh start >>"$logs/servers.log" 2>&1
  bash test/integration/process_tests.sh 2>&1 | tee -a "$logs/installcheck.log"
  phase "pg_dump round trip"
  bash test/integration/dump_restore_test.sh 2>&1 | tee -a "$logs/installcheck.log"
else
  tail -n 30 "$logs/servers.log"
  echo "test integration_servers ... FAILED (servers did not start)" | tee -a "$logs/installcheck.log"
fi
bash test/integration/servers.sh stop >>"$logs/servers.log" 2>&1
ok=$(grep -E '\.\.\. ok( |$)' "$logs/installcheck.log" | wc -l)
bad=$(grep -E '\.\.\. FAILED( |$)|\.\.\. failed \(ignored\)' "$logs/installcheck.log" | wc -l)
passed=$((passed + ok)); failed=$((failed + bad))
if [ "$ok" -eq 0 ] || [ "$bad" -ne 0 ]; then status=1; fi
rm -rf "$work"

phase "fuzzing: replay the seed corpora, then fuzz each target ${FUZZ_SECONDS:-10} s (test/fuzz)"
FUZZ_SECONDS=${FUZZ_SECONDS:-10} bash test/fuzz/run.sh 2>&1 | tee "$logs/fuzz.log"
ok=$(grep -E '^test .* \.\.\. ok' "$logs/fuzz.log" | wc -l)
bad=$(grep -E '^test .* \.\.\. FAILED' "$logs/fuzz.log" | wc -l)
passed=$((passed + ok)); failed=$((failed + bad))
if [ "$ok" -eq 0 ] || [ "$bad" -ne 0 ]; then status=1; fi

# count_phase LOG RC: adds LOG's "test ... ok" and "test ... FAILED" lines to
# the totals; a phase that exits non-zero without a FAILED line (it broke
# before it could say) counts as one failure.
count_phase() {
  local ok bad
  ok=$(grep -cE '^test .* \.\.\. ok( |$)' "$1")
  bad=$(grep -cE '^test .* \.\.\. FAILED( |$)' "$1")
  if [ "$2" -ne 0 ] && [ "$bad" -eq 0 ]; then
    echo "test $(basename "$1" .log) ... FAILED (exit $2 without a result line)" | tee -a "$1"
    bad=1
  fi
  passed=$((passed + ok)); failed=$((failed + bad))
  if [ "$ok" -eq 0 ] || [ "$bad" -ne 0 ]; then status=1; fi
}

# Static checks of the tree: includes point down the layers of src/core
# only, and every C++ file is formatted by .clang-format.
phase "static checks: include layers, clang-format (tools/check_layers.sh, tools/check_format.sh)"
bash tools/check_layers.sh 2>&1 | tee "$logs/static.log"
count_phase "$logs/static.log" "${PIPESTATUS[0]}"
bash tools/check_format.sh 2>&1 | tee "$logs/format.log"
count_phase "$logs/format.log" "${PIPESTATUS[0]}"

# Each unit test alone in a sanitizer build: every test with ASan + UBSan,
# the threaded suites with TSan (see the header of test/sanitizers.sh).
phase "sanitizers: unit tests with ASan + UBSan, threaded suites with TSan (test/sanitizers.sh)"
san_start=$SECONDS
bash test/sanitizers.sh 2>&1 | tee "$logs/sanitizers.log"
count_phase "$logs/sanitizers.log" "${PIPESTATUS[0]}"
echo "sanitizer phase: $((SECONDS - san_start)) s"

# Last: the soak test's short form (test/soak/soak.sh; make soak runs 5 minutes).
phase "soak: 50 sessions for ${SOAK_SECONDS:-30} s while the MTA restarts, DNS stops and the worker gets SIGTERM (test/soak)"
SOAK_SECONDS=${SOAK_SECONDS:-30} timeout -k 10 $((${SOAK_SECONDS:-30} + 300)) \
  bash test/soak/soak.sh 2>&1 | tee "$logs/soak.log"
count_phase "$logs/soak.log" "${PIPESTATUS[0]}"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
