#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the data-layer and service tests.
#
#   scripts/test-postgres.sh start DIR   creates and starts a cluster in DIR (loopback only, trust auth,
#                                        no fsync) and prints, as its last line on stdout,
#                                        NIMBUS_TEST_POSTGRES=Host=127.0.0.1;Port=N;Username=postgres;Database=postgres
#   scripts/test-postgres.sh stop DIR    stops it at once and removes DIR
#
# Both are idempotent: starting a running cluster prints its line again; stopping a missing one
# succeeds. Everything but that last line goes to stderr. The cluster belongs to the `postgres`
# system user when run as root, because initdb refuses to run as root.
set -euo pipefail

me=$(basename "$0")
marker=nimbus-test-postgres

die() {
  echo "$me: $*" >&2
  exit 1
}

usage() {
  echo "usage: $me start DIR | $me stop DIR" >&2
  exit 2
}

[ $# -eq 2 ] || usage
action=$1
dir=$2
[ -n "$dir" ] || usage
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
data="$dir/data"

# The newest PostgreSQL installed by Debian's packages; Debian's own "main" cluster is left alone.
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] ||
  die "PostgreSQL's server binaries are not under /usr/lib/postgresql/*/bin; install Debian's postgresql package (apt-get install postgresql)."

# as_owner CMD... — runs a PostgreSQL tool as the cluster's owner.
if [ "$(id -u)" -eq 0 ]; then
  owner=postgres
  as_owner() { runuser -u "$owner" -- "$@"; }
else
  owner=$(id -un)
  as_owner() { "$@"; }
fi

connection_line() {
  echo "NIMBUS_TEST_POSTGRES=Host=127.0.0.1;Port=$1;Username=postgres;Database=postgres"
}

running() {
  [ -f "$data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
}

# port_free PORT — nothing listens on 127.0.0.1:PORT.
port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  if [ -f "$dir/$marker" ] && running; then
    echo "$me: the cluster in $dir is already running." >&2
    connection_line "$(cat "$dir/port")"
    return 0
  fi

  if [ -e "$dir" ] && [ ! -f "$dir/$marker" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
    die "$dir is not empty and holds no test cluster; give an empty or missing directory."
  fi

  if [ "$owner" = postgres ] && ! id postgres >/dev/null 2>&1; then
    echo "$me: creating the postgres system user" >&2
    useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home --shell /usr/sbin/nologin postgres ||
      die "cannot create the postgres system user."
  fi

  mkdir -p "$dir"
  touch "$dir/$marker"
  chown -R "$owner:" "$dir"
  chmod 700 "$dir"
  as_owner test -w "$dir" ||
    die "the $owner user cannot write $dir (a parent directory is closed to it); use a directory under /tmp."

  if [ ! -f "$data/PG_VERSION" ]; then
    rm -rf "$data"
    echo "$me: initdb $data" >&2
    as_owner "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
      die "initdb failed in $data:$(printf '\n'; tail -n 20 "$dir/initdb.log")"
    # Throwaway data: no fsync, no synchronous commit, no full-page writes; many pooled test connections.
    cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 64MB
EOF
  fi

  # A free loopback port: try random ones, and try again if another cluster took it first.
  local attempt port
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$(( 20000 + RANDOM % 30000 ))
    port_free "$port" || continue
    if as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 -o "-p $port" start >&2; then
      echo "$port" >"$dir/port"
      break
    fi
    if grep -q "could not bind\|Address already in use" "$dir/postgres.log" 2>/dev/null; then
      echo "$me: port $port was taken; trying another." >&2
      continue
    fi
    die "PostgreSQL did not start in $data; its log is $dir/postgres.log:$(printf '\n'; tail -n 20 "$dir/postgres.log" 2>/dev/null)"
  done
  [ -f "$dir/port" ] && running || die "found no free loopback port for PostgreSQL after 10 tries."

  local waited=0
  until "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; do
    waited=$((waited + 1))
    [ "$waited" -le 60 ] || die "PostgreSQL started in $data but does not accept connections on 127.0.0.1:$port after 30 s; see $dir/postgres.log."
    sleep 0.5
  done

  echo "$me: PostgreSQL $(basename "$(dirname "$bindir")") is running on 127.0.0.1:$port (data in $data)" >&2
  connection_line "$port"
}

stop() {
  if [ ! -e "$dir" ]; then
    echo "$me: $dir does not exist; nothing to stop." >&2
    return 0
  fi
  [ -f "$dir/$marker" ] || die "$dir holds no test cluster started by this script; not touching it."
  if [ -f "$data/postmaster.pid" ]; then
    if ! as_owner "$bindir/pg_ctl" -D "$data" -m immediate -w -t 30 stop >&2 && running; then
      die "could not stop the PostgreSQL cluster in $data; its log is $dir/postgres.log."
    fi
  fi
  rm -rf "$dir"
  echo "$me: stopped and removed $dir" >&2
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
