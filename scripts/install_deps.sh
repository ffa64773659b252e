#!/usr/bin/env bash
# Installs what building, testing and running mailsentry need (Debian 12).
set -euo pipefail
packages=(
  build-essential cmake pkg-config git
  postgresql-15 postgresql-server-dev-15 postgresql-contrib
  libc-ares-dev libasio-dev libssl-dev libidn2-dev libunistring-dev libpsl-dev publicsuffix
  libgtest-dev libbenchmark-dev nlohmann-json3-dev
  clang-14 libclang-rt-14-dev clang-format-14
  python3 python3-psycopg2 dnsmasq-base postfix strace bc
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Postfix is only started by the tests, with their own configuration.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
