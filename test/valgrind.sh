#!/usr/bin/env bash
# test/valgrind.sh: the regression suite (pg_regress, REGRESS in the Makefile) against a
# server running under valgrind's memcheck.  Prints the number of errors valgrind reported
# in the server's processes and exits non-zero unless it is 0 (or when a test failed).
#
#   bash test/valgrind.sh [test ...]   (as root, or a user with sudo; about 10 minutes, see
#                                      doc/testing.md; tests: names from REGRESS, default all;
#                                      00_install, which creates the extension, comes first)
#   VALGRIND_OPTS=--track-origins=yes bash test/valgrind.sh ...    (more valgrind options)
#
# Installs valgrind when missing, builds (warnings as errors) and installs isomargin, and
# holds /tmp/isomargin-build.lock for the whole run (backends load the installed library,
# so no other run may install over it meanwhile).  The throwaway cluster's postmaster runs
# under memcheck (test/valgrind-postgres, started by pg_ctl in place of postgres); every
# backend is a fork of it, so every backend is checked.  Then `make installcheck` with
# REGRESS only, a clean stop, and the error count, read from valgrind's markers in the
# per-process logs.  They are kept in the directory printed at the end when there are
# errors; the first few errors are printed.
#
# Suppressions: test/valgrind.supp (known reports from PostgreSQL itself, each explained
# there; Debian ships no suppression file).  What memcheck cannot see with Debian's
# postgres, built without USE_VALGRIND:
#   - palloc'd chunks live inside blocks that aset.c gets from malloc, and without the
#     client requests memcheck sees only the blocks: an overrun into the rest of a block
#     or a use after pfree (until the block goes back to malloc) is not reported.  Reading
#     bytes never written in a fresh block is; a recycled chunk keeps the old, "defined"
#     bytes.  Chunks over 8 kB get a block of their own, so overruns past them are seen.
#   - shared memory (buffers, WAL buffers) is mmap'd zeroes: uninitialised bytes copied
#     there are reported only when they reach a system call or a branch.
#   - no leak check: memory contexts are freed wholesale, at the latest at backend exit.
set -u -o pipefail

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/cluster.sh"
cd "$ISOMARGIN_ROOT" || exit 1

CLUSTER_PACKAGES="$CLUSTER_PACKAGES valgrind"
cluster_prereqs </dev/null
cluster_lock
started=$(date +%s)
cluster_build || cluster_die "build failed"

# The wrapper, the suppressions and the logs in a directory the server's user can use (the
# server never reads the source tree).
VG_DIR=$(mktemp -d /tmp/isomargin-valgrind.XXXXXX) || cluster_die "mktemp failed"
cp test/valgrind-postgres test/valgrind.supp "$VG_DIR/"
mkdir "$VG_DIR/logs"
chmod 755 "$VG_DIR" "$VG_DIR/valgrind-postgres"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$VG_DIR"

cluster_log "starting PostgreSQL under valgrind (logs in $VG_DIR/logs)"
CLUSTER_POSTGRES="$VG_DIR/valgrind-postgres" CLUSTER_START_TIMEOUT=300 \
	VALGRIND_SUPPRESSIONS="$VG_DIR/valgrind.supp" VALGRIND_LOGS="$VG_DIR/logs" VALGRIND_OPTS="${VALGRIND_OPTS:-}" \
	POSTGRES="$("$PG_CONFIG" --bindir)/postgres" \
	cluster_start -c jit=off -c max_connections=20 -c max_worker_processes=4 \
	-c autovacuum=off -c log_min_messages=warning

list="$*"
[ -n "$list" ] && [[ " $list " != *" 00_install "* ]] && list="00_install $list"
[ -n "$list" ] || list=$(make -s --no-print-directory -f Makefile -f - PG_CONFIG="$PG_CONFIG" print-regress <<'EOF'
print-regress:
	@echo $(REGRESS)
EOF
)
[ -n "$list" ] || cluster_die "REGRESS is empty"
cluster_log "pg_regress under valgrind: $(wc -w <<<"$list") tests"
make -s --no-print-directory PG_CONFIG="$PG_CONFIG" REGRESS="$list" ISOLATION= TAP_TESTS= installcheck </dev/null |
	grep --line-buffered -vE '^make.*(Entering|Leaving) directory'
regress_rc=$?
[ -s regression.diffs ] && head -n 60 regression.diffs

# A clean stop, so that every process has written its log.
cluster_as_server "$("$PG_CONFIG" --bindir)/pg_ctl" -D "$CLUSTER_DIR/data" -m fast -w -t 300 stop >/dev/null ||
	echo "warning: the server did not stop cleanly"
processes=$(find "$VG_DIR/logs" -name '*.log' | wc -l)
errors=$(cat "$VG_DIR/logs"/*.log 2>/dev/null | grep -c '^==[0-9]*== VALGRINDERROR-BEGIN')
minutes=$(( ($(date +%s) - started + 30) / 60 ))

echo
echo "== valgrind: $errors errors in $processes server processes, $minutes min (pg_regress exit $regress_rc)"
if [ "$errors" -gt 0 ]; then
	grep -h -A 30 'VALGRINDERROR-BEGIN' "$VG_DIR/logs"/*.log | sed '/VALGRINDERROR-END/q' | head -n 80
	echo "logs kept in $VG_DIR/logs"
else
	rm -rf "$VG_DIR"
fi
[ "$errors" -eq 0 ] && [ "$regress_rc" -eq 0 ] && [ "$processes" -gt 0 ]
