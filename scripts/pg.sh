#!/bin/sh
# A private PostgreSQL cluster in a directory, on a unix socket only.
#   scripts/pg.sh start DIR    initialise (once) and start; prints the conninfo (as postgres)
#   scripts/pg.sh stop DIR [fast|immediate]   immediate: as in a crash, without a checkpoint
# The database signpost belongs to the login role signpost, not a superuser: signpostd
# connects as it (user=signpost) so that row-level security applies to it.
# PostgreSQL refuses to run as root, so as root the cluster belongs to the postgres user.
set -eu

cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "pg.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case "$cmd" in
start)
	if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$dir"; then
		echo "pg.sh: the postgres user cannot reach $dir: a parent directory is private." >&2
		echo "Run from a checkout outside /root, or allow traversal (chmod o+x on the parents)." >&2
		exit 1
	fi
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		mkdir -p "$dir/data" "$dir/socket"
		[ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$dir"
		as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; exit 1; }
	fi
	as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 ||
	as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
		-o "-c listen_addresses='' -c unix_socket_directories='$dir/socket' -c max_connections=200" \
		start >/dev/null ||
		{ cat "$dir/postgres.log" >&2; exit 1; }
	as_owner "$bin/psql" -h "$dir/socket" -U postgres -d postgres -tAq \
		-c "SELECT 1 FROM pg_roles WHERE rolname = 'signpost'" | grep -q 1 ||
		as_owner "$bin/psql" -h "$dir/socket" -U postgres -d postgres -q \
			-c "CREATE ROLE signpost LOGIN NOSUPERUSER NOBYPASSRLS" >/dev/null
	as_owner "$bin/psql" -h "$dir/socket" -U postgres -d postgres -tAq \
		-c "SELECT 1 FROM pg_database WHERE datname = 'signpost'" | grep -q 1 ||
		as_owner "$bin/createdb" -h "$dir/socket" -U postgres -O signpost signpost
	echo "host=$dir/socket user=postgres dbname=signpost"
	;;
stop)
	mode=${3:-fast}
	case $mode in fast | immediate) ;; *) echo "pg.sh: stop mode is fast or immediate" >&2; exit 2 ;; esac
	[ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m "$mode" -w stop >/dev/null
	;;
*)
	echo "usage: pg.sh start DIR | pg.sh stop DIR [fast|immediate]" >&2
	exit 2
	;;
esac
