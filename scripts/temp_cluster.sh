# Sourced: a throwaway PostgreSQL cluster run as the postgres user, on a unix
# socket in a temporary directory, with the mailsentry library preloaded.
#   temp_cluster_start [extra postgresql.conf lines...]
#   temp_psql [psql args...]      (database postgres)
#   temp_cluster_stop             (also run on EXIT)
TEMP_CLUSTER_BIN=$(pg_config --bindir)

# Runs a command as postgres from a directory it may enter: the clone may sit
# in one it cannot (root's home is 0700), and PostgreSQL's tools chdir back.
as_postgres() {
  (cd /tmp && runuser -u postgres -- "$@")
}
TEMP_CLUSTER_PORT=${TEMP_CLUSTER_PORT:-54329}
TEMP_CLUSTER_DIR=""

temp_cluster_start() {
  TEMP_CLUSTER_DIR=$(mktemp -d /tmp/mailsentry-cluster.XXXXXX)
  chown postgres: "$TEMP_CLUSTER_DIR"
  as_postgres "$TEMP_CLUSTER_BIN/initdb" -D "$TEMP_CLUSTER_DIR/data" -A trust -E UTF8 \
    --locale=C.UTF-8 >/dev/null
  {
    echo "shared_preload_libraries = 'mailsentry'"
    echo "listen_addresses = ''"
    echo "unix_socket_directories = '$TEMP_CLUSTER_DIR'"
    echo "port = $TEMP_CLUSTER_PORT"
    for line in "$@"; do echo "$line"; done
  } >>"$TEMP_CLUSTER_DIR/data/postgresql.conf"
  as_postgres "$TEMP_CLUSTER_BIN/pg_ctl" -D "$TEMP_CLUSTER_DIR/data" \
    -l "$TEMP_CLUSTER_DIR/server.log" -w start >/dev/null
  trap temp_cluster_stop EXIT
}

temp_psql() {
  as_postgres psql -X -h "$TEMP_CLUSTER_DIR" -p "$TEMP_CLUSTER_PORT" -d postgres \
    -v ON_ERROR_STOP=1 "$@"
}

temp_cluster_stop() {
  [ -n "$TEMP_CLUSTER_DIR" ] || return 0
  as_postgres "$TEMP_CLUSTER_BIN/pg_ctl" -D "$TEMP_CLUSTER_DIR/data" -m fast stop \
    >/dev/null 2>&1 || true
  rm -rf "$TEMP_CLUSTER_DIR"
  TEMP_CLUSTER_DIR=""
}
