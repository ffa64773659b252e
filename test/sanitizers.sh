#!/usr/bin/env bash
# Builds the core library and its unit tests with sanitizers and runs them:
#   build/asan  AddressSanitizer + UndefinedBehaviorSanitizer (and leak
#               checks), every unit test;
#   build/tsan  ThreadSanitizer, the suites that run more than one thread.
# Prints one line per test and sanitizer, counted by test/run_all.sh like
# the other phases' lines: "test asan_ubsan/Suite.Name ... ok" (or
# "... FAILED (reason)"), "test tsan/Suite.Name ... ok"; a build that fails
# is one "test sanitizer_NAME_build ... FAILED" line. Between them, "== ..."
# lines with the build and run times and a summary per run. The full
# output goes to build/test-logs/sanitizer-*.log. Exits non-zero when a
# build or a test failed.
#
# Each test runs alone, in a process of its own in a session of its own:
# a sanitizer aborts the process at its first finding, which skips the
# fixtures' teardown, and the SMTP and DNS servers that the test started
# would outlive it and answer on 127.0.0.x ports in later tests. Whatever
# is left in the session when the test ends is killed.
#
# Usage: test/sanitizers.sh [asan|tsan]...   (default: both)
# Environment: JOBS (build parallelism, default 2); ASAN_FILTER and
# TSAN_FILTER narrow a run to a gtest filter (while looking into a finding);
# ASAN_BUILD_DIR and TSAN_BUILD_DIR (default build/asan, build/tsan) put the
# builds elsewhere.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/as_root.sh

repo=$(pwd)
logs=$repo/build/test-logs
mkdir -p "$logs"
jobs=${JOBS:-2}
status=0

# The suites that use threads: the network engine (its I/O thread), the DNS
# resolver (an io_context on another thread, the tests' own DNS servers on threads),
# the SMTP prober with its batching and streaming (run by the engine's
# thread in production), domain age (registry stats read from another
# thread), the resolver canary and the outbound port 25 checks.
tsan_filter=${TSAN_FILTER:-'NetworkEngine*:Smtp*:Dns*:DomainAge*:ResolverCanary*:OutboundPort25*'}
asan_filter=${ASAN_FILTER:-'*'}

# Tests left out of one sanitizer run only (gtest filter patterns). Each
# needs a comment saying why: a timing-only assertion that passes in the
# normal build but not under the sanitizer's slowdown.
asan_exclude=()
tsan_exclude=()

# A test that runs longer than this (seconds) is killed and counts as failed.
test_timeout=600

# Kills what is left in session $1 (the test binary's own session).
kill_session() {
  local sid=$1 pids
  pids=$(ps -e -o pid=,sid= | awk -v sid="$sid" '$2 == sid { print $1 }')
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null
  return 0
}

# run_tests NAME DIR FILTER -> runs each test matching FILTER in DIR's test
# binary, appends every output to $log and prints the summary line.
run_tests() {
  local name=$1 dir=$2 filter=$3
  local bin=$dir/mailsentry_unit_tests log=$logs/sanitizer-$name.log
  local tmp sidfile suite line test total=0 passed=0 skipped=0 rc
  local failed=()
  tmp=$(mktemp) sidfile=$(mktemp)
  local tests=()
  while IFS= read -r line; do
    line=${line%%#*}                    # "  # GetParam() = ..." comments
    line=${line%"${line##*[! ]}"}       # trailing blanks
    [ -n "$line" ] || continue
    if [ "${line:0:1}" != " " ]; then suite=$line; continue; fi
    test=${line#"${line%%[! ]*}"}
    case "$suite$test" in DISABLED_*|*.DISABLED_*) continue ;; esac
    tests+=("$suite$test")
  done < <("$bin" --gtest_list_tests --gtest_filter="$filter" 2>>"$log")
  if [ ${#tests[@]} -eq 0 ]; then
    echo "test sanitizer_$name ... FAILED (no test matched $filter, see $log)"
    status=1
    rm -f "$tmp" "$sidfile"
    return
  fi
  for test in "${tests[@]}"; do
    total=$((total + 1))
    : >"$sidfile"
    local begin=$SECONDS
    # The session leader records its id and becomes the test binary.
    setsid --fork --wait bash -c 'echo $$ >"$0"; exec timeout -k 10 "$1" "$2" --gtest_filter="$3"' \
      "$sidfile" "$test_timeout" "$bin" "$test" >"$tmp" 2>&1 </dev/null
    rc=$?
    [ -s "$sidfile" ] && kill_session "$(cat "$sidfile")"
    {
      printf '\n===== [%d/%d] %s (exit %d, %d s)\n' "$total" "${#tests[@]}" "$test" "$rc" \
        $((SECONDS - begin))
      cat "$tmp"
    } >>"$log"
    if [ "$rc" -eq 0 ] && grep -q '^\[  PASSED  \] 1 test' "$tmp"; then
      passed=$((passed + 1))
      echo "test $name/$test ... ok"
    elif [ "$rc" -eq 0 ] && grep -q '^\[  SKIPPED \] 1 test' "$tmp"; then
      passed=$((passed + 1)) skipped=$((skipped + 1))
      echo "test $name/$test ... ok (skipped by the test itself)"
    else
      local why
      if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        why="timed out after $test_timeout s"
        echo "    ($why)" >>"$log"
      else
        # The sanitizer's own one-line summary, or the test's failure.
        why=$(grep -m1 -hE '^SUMMARY: [A-Za-z]+Sanitizer|runtime error:' "$tmp" | cut -c1-160)
        [ -n "$why" ] || why=$(grep -m1 -E '^\[  FAILED  \]' "$tmp" >/dev/null && echo "test failed")
        why="exit $rc${why:+: $why}"
      fi
      echo "test $name/$test ... FAILED ($why; see $log)"
      failed+=("$test")
    fi
  done
  rm -f "$tmp" "$sidfile"
  {
    echo
    echo "== $name: $passed of $total passed ($skipped skipped), ${#failed[@]} failed"
    [ ${#failed[@]} -eq 0 ] || printf '   failed: %s\n' "${failed[@]}"
  } >>"$log"
  echo "== $name: $passed of $total passed ($skipped skipped), ${#failed[@]} failed"
  if [ ${#failed[@]} -ne 0 ]; then
    # One line per distinct sanitizer finding, for a quick look.
    grep -hE '^SUMMARY: [A-Za-z]+Sanitizer|runtime error:' "$log" | sort | uniq -c | sed 's/^/  /'
    status=1
  fi
}

# sanitize_run NAME DIR SANITIZE FILTER EXCLUDE...
sanitize_run() {
  local name=$1 dir=$2 sanitize=$3 filter=$4
  shift 4
  local build_log=$logs/sanitizer-$name-build.log log=$logs/sanitizer-$name.log
  local start=$SECONDS
  : >"$log"
  echo "== $name: build in $dir (-fsanitize=$sanitize, -j$jobs)"
  if ! { cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
           -DMAILSENTRY_SANITIZE="$sanitize" &&
         cmake --build "$dir" -j"$jobs" --target mailsentry_unit_tests; } >"$build_log" 2>&1; then
    tail -n 40 "$build_log"
    echo "test sanitizer_${name}_build ... FAILED (build failed, see $build_log)"
    status=1
    return
  fi
  local built=$SECONDS
  [ $# -gt 0 ] && filter="$filter-$(IFS=:; echo "$*")"
  echo "== $name: build took $((built - start)) s; running $filter"
  echo "gtest filter: $filter" >>"$log"
  run_tests "$name" "$dir" "$filter"
  echo "== $name: tests took $((SECONDS - built)) s; output in $log"
}

want() {
  [ ${#targets[@]} -eq 0 ] && return 0
  local t
  for t in "${targets[@]}"; do [ "$t" = "$1" ] && return 0; done
  return 1
}
targets=("$@")

if want asan; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    sanitize_run asan_ubsan "${ASAN_BUILD_DIR:-build/asan}" "address,undefined" "$asan_filter" "${asan_exclude[@]}"
fi

if want tsan; then
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    sanitize_run tsan "${TSAN_BUILD_DIR:-build/tsan}" "thread" "$tsan_filter" "${tsan_exclude[@]}"
fi

exit $status
