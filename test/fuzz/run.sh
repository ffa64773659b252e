#!/usr/bin/env bash
# Builds the libFuzzer targets of test/fuzz/ (fuzz_*.cpp) with clang++ and
# ASan + UBSan into build/fuzz/, then for each target replays its seed corpus
# (test/fuzz/corpus/NAME/) and fuzzes it for FUZZ_SECONDS seconds.
#
# usage: bash test/fuzz/run.sh [NAME...]    NAME: syntax, smtp_reply, ... (default: all)
# environment:
#   FUZZ_SECONDS  seconds of fuzzing per target (default 10; 0 = replay only)
#   FUZZ_JOBS     parallel compiles (default 2)
#   FUZZ_CXX      the clang++ to use (default: clang++, else clang++-14)
#   FUZZ_BUILD_ONLY=1  build, run nothing
#
# The committed corpus is never written: fuzzing runs on a scratch copy in
# build/fuzz/work/NAME/, where crash files and the log of each run stay.
# Prints "test fuzz_NAME ... ok" or "... FAILED (reason)" per target, then a
# summary line; exits non-zero when any target failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FUZZ_DIR=$ROOT/test/fuzz
OUT=$ROOT/build/fuzz
GEN=$OUT/gen
OBJ=$OUT/obj
WORK=$OUT/work
LIB=$OUT/libmailsentry_core_fuzz.a
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
FUZZ_JOBS=${FUZZ_JOBS:-2}

if ! [[ $FUZZ_SECONDS =~ ^[0-9]+$ ]]; then
  echo "run.sh: FUZZ_SECONDS must be a whole number of seconds, not '$FUZZ_SECONDS'" >&2
  exit 2
fi

# ------------------------------------------------------------------ compiler

CXX=""
for candidate in ${FUZZ_CXX:-} clang++ clang++-14; do
  if command -v "$candidate" >/dev/null 2>&1; then
    CXX=$(command -v "$candidate")
    break
  fi
done
if [ -z "$CXX" ]; then
  echo "run.sh: clang++ not found; the fuzz targets need clang (libFuzzer)." >&2
  echo "        Install it with: bash scripts/install_deps.sh   (clang-14, libclang-rt-14-dev)" >&2
  exit 2
fi

SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CXXFLAGS=(-std=c++17 -g -O1 -fno-omit-frame-pointer $SANITIZE
  -DASIO_STANDALONE -DASIO_NO_DEPRECATED -DASIO_HAS_STD_ALIGNED_ALLOC=1 -I"$ROOT/src/core")
LIBS=(-lidn2 -lunistring -lpsl -lcares -lssl -lcrypto -lpthread)

mkdir -p "$GEN" "$OBJ" "$WORK"

# clang without the libFuzzer runtime (libclang-rt-*-dev) fails only at link time.
probe_src=$OUT/probe.cpp
printf '%s\n' '#include <cstddef>' '#include <cstdint>' \
  'extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }' \
  >"$probe_src"
if ! "$CXX" "${CXXFLAGS[@]}" -fsanitize=fuzzer "$probe_src" -o "$OUT/probe" 2>"$OUT/probe.log"; then
  echo "run.sh: $CXX cannot build a libFuzzer target (-fsanitize=fuzzer,address,undefined):" >&2
  sed 's/^/        /' "$OUT/probe.log" | head -5 >&2
  echo "        It must be clang++ with its libFuzzer runtime: bash scripts/install_deps.sh" >&2
  echo "        installs clang-14 and libclang-rt-14-dev." >&2
  exit 2
fi

# ------------------------------------------------------------------ targets

all_names=()
for source in "$FUZZ_DIR"/fuzz_*.cpp; do
  name=$(basename "$source" .cpp)
  all_names+=("${name#fuzz_}")
done
names=()
if [ $# -gt 0 ]; then
  for name in "$@"; do
    name=${name#fuzz_}
    if [ ! -f "$FUZZ_DIR/fuzz_$name.cpp" ]; then
      echo "run.sh: no target '$name' (have: ${all_names[*]})" >&2
      exit 2
    fi
    names+=("$name")
  done
else
  names=("${all_names[@]}")
fi

# ------------------------------------------------------------------ build

# True when `target` is missing or older than any of the other files.
older_than() {
  local target=$1 file
  shift
  [ -e "$target" ] || return 0
  for file in "$@"; do
    [ ! -e "$file" ] || [ "$file" -nt "$target" ] && return 0
  done
  return 1
}

# The prerequisites listed in a -MMD dependency file (its first rule).
deps_of() {
  awk 'NR == 1 { sub(/^[^:]*:/, "") } { more = sub(/\\$/, ""); print; if (!more) exit }' "$1" |
    tr -s ' \t' '\n' | sed '/^$/d'
}

# True when `object` must be rebuilt: missing, or older than what it was built from.
stale() {
  local object=$1 depfile=$2
  [ -f "$object" ] && [ -f "$depfile" ] || return 0
  local -a deps
  mapfile -t deps < <(deps_of "$depfile")
  older_than "$object" "${deps[@]}"
}

generate_sources() {
  # Built-in lists (same tool and manifest as CMakeLists.txt).
  local -a specs=() files=()
  local spec
  while IFS= read -r spec || [ -n "$spec" ]; do
    case $spec in '' | '#'*) continue ;; esac
    specs+=("$spec")
    files+=("$ROOT/${spec#*=}")
  done <"$ROOT/data/builtin_lists.txt"
  if older_than "$GEN/builtin_lists.cpp" "$ROOT/tools/embed_lists.sh" \
    "$ROOT/data/builtin_lists.txt" "${files[@]}"; then
    echo "fuzz build: embedding lists from data/"
    (cd "$ROOT" && sh tools/embed_lists.sh "$GEN/builtin_lists.cpp" "${specs[@]}") || return 1
  fi
  # The gibberish model, trained from names and English words (no sanitizers:
  # a build tool, not code under test).
  if older_than "$GEN/train_gibberish" "$ROOT/tools/train_gibberish.cpp"; then
    echo "fuzz build: compiling train_gibberish"
    "$CXX" -std=c++17 -O2 "$ROOT/tools/train_gibberish.cpp" -o "$GEN/train_gibberish" || return 1
  fi
  if older_than "$GEN/gibberish_model.cpp" "$GEN/train_gibberish" "$ROOT/data/names.txt" \
    "$ROOT/data/english_words.txt"; then
    echo "fuzz build: training the gibberish model"
    "$GEN/train_gibberish" "$ROOT/data/names.txt" "$ROOT/data/english_words.txt" \
      "$GEN/gibberish_model.cpp" || return 1
  fi
}

compile_object() {  # source object
  "$CXX" "${CXXFLAGS[@]}" -fsanitize=fuzzer-no-link -MMD -MP -MF "$2.d" -c "$1" -o "$2"
}

build_core() {  # source... (of src/core, besides the generated ones)
  generate_sources || return 1

  # Objects built with other flags or another compiler are thrown away.
  local stamp="$CXX ${CXXFLAGS[*]} -fsanitize=fuzzer-no-link"
  if [ "$(cat "$OBJ/flags" 2>/dev/null)" != "$stamp" ]; then
    rm -f "$OBJ"/*.o "$OBJ"/*.o.d "$LIB"
    printf '%s\n' "$stamp" >"$OBJ/flags"
  fi

  local -a sources=("$@" "$GEN/builtin_lists.cpp" "$GEN/gibberish_model.cpp")
  local -a objects=() stale_pairs=()
  local source object
  for source in "${sources[@]}"; do
    object=$OBJ/$(basename "$source" .cpp).o
    objects+=("$object")
    stale "$object" "$object.d" && stale_pairs+=("$source" "$object")
  done
  # Objects of sources that are gone are deleted (the archive holds only
  # those of `sources`, and is made anew when that set changes).
  for object in "$OBJ"/*.o; do
    [ -e "$object" ] || continue
    source=$(basename "$object" .o).cpp
    compgen -G "$ROOT/src/core/*/$source" >/dev/null || [ -e "$GEN/$source" ] || rm -f "$object" "$object.d"
  done

  if [ ${#stale_pairs[@]} -gt 0 ]; then
    echo "fuzz build: compiling $((${#stale_pairs[@]} / 2)) core sources with $(basename "$CXX") (-j$FUZZ_JOBS)"
    export -f compile_object
    export CXX
    # Arrays cannot be exported: pass the flags through one variable.
    local failed=0
    printf '%s\0' "${stale_pairs[@]}" |
      CXXFLAGS_STR="${CXXFLAGS[*]}" xargs -0 -n 2 -P "$FUZZ_JOBS" bash -c \
        'read -ra CXXFLAGS <<<"$CXXFLAGS_STR"; compile_object "$1" "$2" || { rm -f "$2"; exit 255; }' _ ||
      failed=1
    [ $failed -eq 0 ] || return 1
  fi
  if older_than "$LIB" "${objects[@]}" || [ "$(ar t "$LIB" 2>/dev/null | wc -l)" -ne ${#objects[@]} ]; then
    rm -f "$LIB"
    ar rcs "$LIB" "${objects[@]}" || return 1
  fi
}

build_target() {  # name
  local source=$FUZZ_DIR/fuzz_$1.cpp binary=$OUT/fuzz_$1
  if stale "$binary" "$binary.d" || older_than "$binary" "$LIB"; then
    echo "fuzz build: linking fuzz_$1"
    "$CXX" "${CXXFLAGS[@]}" -fsanitize=fuzzer -MMD -MP -MF "$binary.d" "$source" "$LIB" \
      "${LIBS[@]}" -o "$binary" || { rm -f "$binary"; return 1; }
  fi
}

# The sources of src/core that the targets link (the asio-heavy network code
# is left out: it takes most of the compile time). When a target needs more,
# its link fails, and the whole of src/core is compiled for a second try.
CORE_SOURCES=(checks/syntax checks/syntax_rules checks/address_characters checks/local_part_syntax
  checks/domain_syntax checks/idn checks/address_literal net/smtp_reply net/https_get
  net/one_shot_request net/bracketed_host net/address_policy net/checked_connect
  net/registration_date net/whois_client net/rdap_bootstrap checks/typo checks/edit_distance
  checks/keyboard checks/lists checks/public_suffix checks/gibberish)

build_start=$SECONDS
declare -A build_failed=()
core=()
for source in "${CORE_SOURCES[@]}"; do
  [ -f "$ROOT/src/core/$source.cpp" ] && core+=("$ROOT/src/core/$source.cpp")
done
if ! build_core "${core[@]}"; then
  echo "fuzz build: the core library failed to build" >&2
  for name in "${names[@]}"; do build_failed[$name]="core library build failed"; done
else
  undefined=0
  for name in "${names[@]}"; do
    if ! build_target "$name" 2>"$OUT/link-$name.log"; then
      build_failed[$name]="build failed"
      grep -q 'undefined reference' "$OUT/link-$name.log" && undefined=1
    fi
  done
  # A link that needs more of src/core than the list above is retried with
  # all of it; the first link's errors are shown only if the retry fails too.
  if [ $undefined -eq 1 ]; then
    echo "fuzz build: CORE_SOURCES misses a source a target needs; compiling all of src/core"
    if build_core "$ROOT"/src/core/*/*.cpp; then
      for name in "${!build_failed[@]}"; do
        build_target "$name" 2>"$OUT/link-$name.log" && unset "build_failed[$name]"
      done
    fi
  fi
  for name in "${!build_failed[@]}"; do cat "$OUT/link-$name.log" >&2; done
fi
echo "fuzz build: done in $((SECONDS - build_start)) s"
if [ "${FUZZ_BUILD_ONLY:-0}" = 1 ]; then
  [ ${#build_failed[@]} -eq 0 ]
  exit
fi

# ------------------------------------------------------------------ run

# Sanitizer reports with stacks; libFuzzer turns any report into a crash file.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:symbolize=1}

# The first line of a log that tells what went wrong, shortened.
failure_reason() {
  local log=$1 line
  line=$(grep -m1 -E 'invariant broken:|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer):|runtime error:' \
    "$log" 2>/dev/null)
  line=${line#*==mailsentry fuzz== }
  line=${line#*ERROR: }
  line=$(printf '%s' "$line" | sed -E 's/^==[0-9]+==//; s/ on address 0x[0-9a-f]+.*//; s#^'"$ROOT"'/##')
  [ -n "$line" ] || line="exit status $2"
  printf '%s' "${line:0:160}"
  # Where libFuzzer saved the input (crash-*, leak-*, timeout-*, oom-*).
  local artifact
  artifact=$(grep -m1 -oE 'Test unit written to [^ ]+' "$log" | sed 's/^Test unit written to //')
  [ -z "$artifact" ] || printf '; input: %s' "${artifact#"$ROOT"/}"
  printf '; log: %s' "${log#"$ROOT"/}"
}

failed=0
passed=0
for name in "${names[@]}"; do
  label="test fuzz_$name ..."
  if [ -n "${build_failed[$name]:-}" ]; then
    echo "$label FAILED (${build_failed[$name]})"
    failed=$((failed + 1))
    continue
  fi
  binary=$OUT/fuzz_$name
  corpus=$FUZZ_DIR/corpus/$name
  work=$WORK/$name
  rm -rf "$work"
  mkdir -p "$work/corpus"
  [ -d "$corpus" ] && cp -R "$corpus"/. "$work/corpus"/
  options=(-artifact_prefix="$work/" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
  [ -f "$FUZZ_DIR/dict/$name.dict" ] && options+=(-dict="$FUZZ_DIR/dict/$name.dict")

  # 1. Replay the committed seeds (a scratch copy: -runs=0 writes nothing, but
  #    the same directory then grows with what the fuzzing finds).
  if [ -z "$(ls -A "$work/corpus")" ]; then
    echo "fuzz: warning: no seeds in test/fuzz/corpus/$name" >&2
  fi
  "$binary" "${options[@]}" -runs=0 "$work/corpus" >"$work/replay.log" 2>&1
  status=$?
  if [ $status -ne 0 ]; then
    echo "$label FAILED (replaying the seeds: $(failure_reason "$work/replay.log" $status))"
    failed=$((failed + 1))
    continue
  fi

  # 2. Fuzz.
  if [ "$FUZZ_SECONDS" -gt 0 ]; then
    "$binary" "${options[@]}" -max_total_time="$FUZZ_SECONDS" "$work/corpus" >"$work/fuzz.log" 2>&1
    status=$?
    if [ $status -ne 0 ]; then
      echo "$label FAILED ($(failure_reason "$work/fuzz.log" $status))"
      failed=$((failed + 1))
      continue
    fi
  fi
  echo "$label ok"
  passed=$((passed + 1))
done

echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
