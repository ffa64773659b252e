# Sourced by the top-level scripts: re-run the calling script as root via
# sudo when started as another user (apt-get and make install need root).
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -E bash "$0" "$@"
  fi
  echo "$0: run as root or install sudo" >&2
  exit 1
fi
