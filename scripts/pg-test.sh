#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, never for data anyone keeps:
# trust authentication on loopback and fsync off.
#
#   scripts/pg-test.sh start DIR PORT   # initdb (once) + start; prints the URL
#   scripts/pg-test.sh stop DIR         # stop (the data stays in DIR/data)
#
# Use it as: export EXPT_TEST_POSTGRES_URL=$(scripts/pg-test.sh start /tmp/pg 55432)
# PostgreSQL refuses to run as root, so as root (CI) the server runs as the
# `postgres` user with DIR owned by it.
set -euo pipefail

usage() {
	echo "usage: $0 start DIR PORT | stop DIR" >&2
	exit 2
}

cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || usage

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
if [[ -z $bindir || ! -x $bindir/pg_ctl ]]; then
	echo "$0: no PostgreSQL server under /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2
	exit 1
fi

# as runs a PostgreSQL program as the user that owns the cluster.
as() {
	if [[ $(id -u) == 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=$dir/data
log=$dir/postgres.log

case $cmd in
start)
	port=${3:-}
	[[ $port =~ ^[0-9]+$ ]] || usage
	if [[ $(id -u) == 0 ]]; then
		chown postgres: "$dir"
	fi
	if [[ ! -f $data/PG_VERSION ]]; then
		as "$bindir/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; exit 1; }
	fi
	if ! as "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		# Tests only: fsync and synchronous_commit off trade durability for
		# speed; the socket lives in DIR so no system directory is needed.
		opts="-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off"
		opts+=" -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
		as "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "$opts" start >/dev/null ||
			{ tail -n 30 "$log" >&2; exit 1; }
	fi
	echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	;;
stop)
	if [[ -f $data/PG_VERSION ]]; then
		as "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	;;
*)
	usage
	;;
esac
