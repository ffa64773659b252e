#!/usr/bin/env bash
# Checks that includes point one way only:
#   src/core/checks   network-free checks and their data   (includes checks/)
#   src/core/net      DNS, SMTP, RDAP/WHOIS, address policy (checks/, net/)
#   src/core/verdict  scoring and the verification pipeline (checks/, net/, verdict/)
#   src/core          never includes a PostgreSQL header nor src/pg
# Prints every offending line and "test include_layers ... ok|FAILED (N
# includes point up a layer)"; exits non-zero on any.
set -uo pipefail
cd "$(dirname "$0")/.."

rank() {
  case $1 in
    checks) echo 0 ;;
    net) echo 1 ;;
    verdict) echo 2 ;;
    *) echo 99 ;;
  esac
}

bad=0
while IFS= read -r file; do
  layer=${file#src/core/}
  layer=${layer%%/*}
  own=$(rank "$layer")
  if [ "$own" = 99 ]; then
    echo "$file: not in a layer folder (checks, net, verdict)"
    bad=$((bad + 1))
    continue
  fi
  while IFS=: read -r line text; do
    target=$(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)".*/\1/p' <<<"$text")
    if [ -n "$target" ]; then
      folder=${target%%/*}
      if [ "$folder" = "$target" ]; then
        echo "$file:$line: include \"$target\" names no layer folder"
        bad=$((bad + 1))
      elif [ "$(rank "$folder")" = 99 ] || [ "$(rank "$folder")" -gt "$own" ]; then
        echo "$file:$line: $layer includes \"$target\" (a layer above it, or outside src/core)"
        bad=$((bad + 1))
      fi
      continue
    fi
    # PostgreSQL's headers, by any spelling.
    if grep -qE '#[[:space:]]*include[[:space:]]*<(postgres|postgres_ext|fmgr|funcapi|miscadmin|pgstat)\.h>|#[[:space:]]*include[[:space:]]*<(access|catalog|commands|executor|nodes|storage|utils|lib|port|postmaster|tcop)/' <<<"$text"; then
      echo "$file:$line: src/core includes a PostgreSQL header: $text"
      bad=$((bad + 1))
    fi
  done < <(grep -n '#[[:space:]]*include' "$file")
done < <(find src/core -name '*.cpp' -o -name '*.hpp' | sort)

if [ "$bad" -eq 0 ]; then
  echo "test include_layers ... ok"
else
  echo "test include_layers ... FAILED ($bad includes point up a layer or out of src/core)"
  exit 1
fi
