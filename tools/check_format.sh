#!/usr/bin/env bash
# Checks that every C++ file of the project is formatted by .clang-format
# (clang-format 14, as Debian 12 ships it). Prints the files that are not,
# and "test clang_format ... ok|FAILED (N files not formatted)"; exits
# non-zero on any. `tools/check_format.sh --fix` formats them instead.
set -uo pipefail
cd "$(dirname "$0")/.."
format=${CLANG_FORMAT:-clang-format-14}
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find src test tools -name '*.cpp' -o -name '*.hpp')
if [ "${1:-}" = --fix ]; then
  "$format" -i "${files[@]}"
  exit
fi
bad=0
for file in "${files[@]}"; do
  if ! "$format" --dry-run -Werror "$file" >/dev/null 2>&1; then
    echo "$file: not formatted (tools/check_format.sh --fix)"
    bad=$((bad + 1))
  fi
done
if [ "$bad" -eq 0 ]; then
  echo "test clang_format ... ok"
else
  echo "test clang_format ... FAILED ($bad files not formatted)"
  exit 1
fi
