# test/lib/cluster.sh: shared shell functions for isomargin's runners.
# Source it from bash:  . "$(dirname "$0")/lib/cluster.sh"
#
#   cluster_prereqs        install what building and testing need (apt-get), when missing
#   cluster_lock           take /tmp/isomargin-build.lock for the rest of the script
#   cluster_build          make (warnings are errors) and make install
#   cluster_start [-c name=value ...]
#                          initdb + start a throwaway PostgreSQL 15 in a fresh temp dir,
#                          private socket directory, free port; exports PGHOST PGPORT
#                          PGUSER PGDATABASE; stopped and removed on exit, error, Ctrl-C
#                          or (by a detached watcher) when the script is killed.
#                          CLUSTER_POSTGRES names another program for pg_ctl to start in
#                          place of postgres (a wrapper that execs postgres, say under
#                          valgrind); CLUSTER_START_TIMEOUT, seconds (default 60)
#   cluster_stop           stop it now (and any server left below its directory), remove it
#   cluster_at_exit CMD    run CMD (a string) before the cluster is stopped on exit; use
#                          it instead of a trap of your own, which would replace ours
#   cluster_as_server CMD  run CMD as the server's OS user (postgres when we are root)
#
# The server runs as the unprivileged `postgres` user when we are root, as ourselves
# otherwise.  It never reads the source tree: `make install` copies what it needs into
# PostgreSQL's own directories, and test clients (psql, pg_regress) run as the caller.

ISOMARGIN_ROOT=${ISOMARGIN_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
CLUSTER_PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-client-15 libipc-run-perl
	perl make gcc libc6-dev util-linux"
CLUSTER_LOCKFILE=/tmp/isomargin-build.lock

CLUSTER_DIR=
CLUSTER_EXIT_HOOKS=()

cluster_log()
{
	echo "== $*" >&2
}

cluster_die()
{
	echo "error: $*" >&2
	exit 1
}

_cluster_sudo()
{
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		cluster_die "need root (or sudo) to run: $*"
	fi
}

cluster_prereqs()
{
	local missing=() pkg
	for pkg in $CLUSTER_PACKAGES; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0

	cluster_log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	local apt=(apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}")
	if ! _cluster_sudo "${apt[@]}" </dev/null; then
		cluster_log "install failed; refreshing package lists and retrying"
		_cluster_sudo apt-get update -q </dev/null || cluster_die "apt-get update failed"
		_cluster_sudo "${apt[@]}" </dev/null || cluster_die "could not install ${missing[*]}"
	fi
}

# Serialize build+install+test across concurrent runs in this machine: `make install`
# writes PostgreSQL's shared directories.  The lock is held until the script exits.
cluster_lock()
{
	[ -n "${_CLUSTER_LOCK_FD:-}" ] && return 0
	[ -e "$CLUSTER_LOCKFILE" ] || (umask 000 && : >>"$CLUSTER_LOCKFILE") 2>/dev/null
	exec {_CLUSTER_LOCK_FD}<"$CLUSTER_LOCKFILE" || cluster_die "cannot open $CLUSTER_LOCKFILE"
	if ! flock -n "$_CLUSTER_LOCK_FD"; then
		cluster_log "waiting for $CLUSTER_LOCKFILE (another build or test run holds it)"
		flock "$_CLUSTER_LOCK_FD" || cluster_die "cannot lock $CLUSTER_LOCKFILE"
	fi
}

cluster_build()
{
	[ -x "$PG_CONFIG" ] || cluster_die "$PG_CONFIG not found (postgresql-server-dev-15 missing?)"
	cluster_log "building isomargin against $("$PG_CONFIG" --version)"
	make -C "$ISOMARGIN_ROOT" -s PG_CONFIG="$PG_CONFIG" || return 1
	cluster_log "installing into $("$PG_CONFIG" --pkglibdir) and $("$PG_CONFIG" --sharedir)/extension"
	_cluster_sudo make -C "$ISOMARGIN_ROOT" -s PG_CONFIG="$PG_CONFIG" install >/dev/null || return 1
}

_cluster_server_user()
{
	if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

# Runs from inside CLUSTER_DIR so that the server user never needs to enter the
# caller's working directory (a clone under /root, say).
# The build lock's descriptor is closed for it, so a server started here never holds it.
cluster_as_server()
(
	[ -n "${_CLUSTER_LOCK_FD:-}" ] && exec {_CLUSTER_LOCK_FD}<&-
	cd "$CLUSTER_DIR" || exit 1
	if [ "$(id -u)" -eq 0 ]; then
		exec runuser -u postgres -- "$@"
	else
		exec "$@"
	fi
)

cluster_at_exit()
{
	CLUSTER_EXIT_HOOKS+=("$1")
}

_cluster_port_free()
{
	local port=$1
	! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
		[ ! -e "/tmp/.s.PGSQL.$port" ] && [ ! -e "/var/run/postgresql/.s.PGSQL.$port" ]
}

# Stops every server running from a data directory below DIR: ours, and any a TAP test
# left behind when it was killed before its END block could stop its nodes.
cluster_stop_below()
{
	local dir=$1 bindir pidfile data pid mode
	bindir=$("$PG_CONFIG" --bindir)
	while IFS= read -r -d '' pidfile; do
		data=$(dirname "$pidfile")
		mode=immediate
		[ "$data" = "$CLUSTER_DIR/data" ] && mode=fast
		cluster_as_server "$bindir/pg_ctl" -D "$data" -m "$mode" -w -t 30 stop >/dev/null 2>&1 ||
			cluster_as_server "$bindir/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1
		if [ -f "$pidfile" ]; then
			pid=$(head -n 1 "$pidfile")
			if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$data"; then
				kill -KILL "$pid" 2>/dev/null
				sleep 1
			fi
		fi
	done < <(find "$dir" -name postmaster.pid -print0 2>/dev/null)
}

cluster_stop()
{
	[ -n "$CLUSTER_DIR" ] && [ -d "$CLUSTER_DIR" ] || return 0
	cluster_stop_below "$CLUSTER_DIR"
	rm -rf "$CLUSTER_DIR"
	CLUSTER_DIR=
}

_cluster_on_exit()
{
	local status=$? i
	trap - EXIT INT TERM HUP
	for ((i = ${#CLUSTER_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
		eval "${CLUSTER_EXIT_HOOKS[i]}" || true
	done
	cluster_stop
	exit "$status"
}

_cluster_on_signal()
{
	cluster_log "interrupted by SIG$1"
	exit $((128 + $2))
}

# The EXIT trap cannot run when the script is killed outright (SIGKILL): a detached
# watcher stops the cluster once the script's process is gone.  It is not a job of the
# script (so a bare `wait` there does not wait for it), ignores Ctrl-C, and holds neither
# the script's output nor the build lock open.
_cluster_guard()
{
	local script=$$
	(
		(
			trap '' INT TERM HUP
			[ -n "${_CLUSTER_LOCK_FD:-}" ] && exec {_CLUSTER_LOCK_FD}<&-
			while kill -0 "$script" 2>/dev/null; do
				sleep 2
			done
			cluster_stop
		) </dev/null >/dev/null 2>&1 &
	)
}

cluster_start()
{
	local bindir user port tries=0
	bindir=$("$PG_CONFIG" --bindir)
	user=$(_cluster_server_user)
	id "$user" >/dev/null 2>&1 || cluster_die "no OS user '$user' to run the server as"

	trap _cluster_on_exit EXIT
	trap '_cluster_on_signal INT 2' INT
	trap '_cluster_on_signal TERM 15' TERM
	trap '_cluster_on_signal HUP 1' HUP

	CLUSTER_DIR=$(mktemp -d /tmp/isomargin-pg.XXXXXX) || cluster_die "mktemp failed"
	mkdir -m 700 "$CLUSTER_DIR/sock"
	[ "$(id -u)" -eq 0 ] && chown -R postgres: "$CLUSTER_DIR"

	cluster_as_server "$bindir/initdb" -D "$CLUSTER_DIR/data" -U "$user" --auth=trust \
		--no-locale --encoding=UTF8 --no-sync >"$CLUSTER_DIR/initdb.log" 2>&1 || {
		cat "$CLUSTER_DIR/initdb.log" >&2
		cluster_die "initdb failed"
	}

	while :; do
		port=$((20000 + RANDOM % 30000))
		_cluster_port_free "$port" || continue
		if cluster_as_server "$bindir/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" \
			-p "${CLUSTER_POSTGRES:-$bindir/postgres}" -w -t "${CLUSTER_START_TIMEOUT:-60}" \
			-o "-p $port -k $CLUSTER_DIR/sock -c listen_addresses= \
			-c fsync=off -c synchronous_commit=off -c full_page_writes=off $*" \
			start >/dev/null; then
			break
		fi
		tries=$((tries + 1))
		if [ "$tries" -ge 5 ]; then
			tail -n 30 "$CLUSTER_DIR/server.log" >&2
			cluster_die "could not start PostgreSQL"
		fi
	done

	_cluster_guard
	export PGHOST="$CLUSTER_DIR/sock" PGPORT="$port" PGUSER="$user" PGDATABASE=postgres
	unset PGSERVICE PGPASSWORD PGHOSTADDR PGOPTIONS
	cluster_log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') running as $user on $PGHOST port $PGPORT"
}
