#!/usr/bin/env bash
# Runs every isomargin test suite and ends with one line: `N passed, N failed`.
#
#   bash test/run-tests.sh [regress] [isolation] [suites] [tap]    (default: all four)
#
# Installs missing prerequisites (apt-get), then, holding /tmp/isomargin-build.lock:
# builds with warnings as errors, installs, starts a throwaway PostgreSQL 15 cluster
# and runs
#   regress    pg_regress: REGRESS in the Makefile (sql/, expected/)
#   isolation  pg_isolation_regress: ISOLATION in the Makefile (test/specs, test/expected)
#   suites     every executable test/suites/*.sh, run from the top of the tree against the
#              cluster: PGHOST, PGPORT, PGUSER set, PGDATABASE a fresh empty database of its
#              own (suite_<name>), ISOMARGIN_ROOT and PG_CONFIG exported; the extension is
#              installed but not created.  Each prints `N passed, N failed` as its last such line
#   tap        every test/t/*.pl under prove, as the server's OS user, each test making
#              clusters of its own with PostgreSQL::Test::Cluster
# Counts are tests (pg_regress, isolation), reported tests (suites) and top-level TAP
# test points.  A suite or setup step that fails without naming a failed test counts as
# one failure.  Exits non-zero when anything failed or nothing ran.  The cluster is
# stopped and removed on exit, error or Ctrl-C.  ISOMARGIN_TEST_TIMEOUT (seconds, default
# 900) bounds each make run, suite script and TAP file.  ISOMARGIN_ONLY (an extended
# regular expression) keeps only the tests, specs, suites and TAP files whose name matches
# it (regress always keeps 00_install), for a quick run while developing; CI never sets it.
set -u -o pipefail

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/cluster.sh"
cd "$ISOMARGIN_ROOT" || exit 1
export ISOMARGIN_ROOT PG_CONFIG

TIMEOUT=${ISOMARGIN_TEST_TIMEOUT:-900}

PASSED=0
FAILED=0
SKIPPED=0
REPORT=()
SUMMARY_DONE=

record()
{
	local name=$1 p=$2 f=$3 s=${4:-0}
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	SKIPPED=$((SKIPPED + s))
	REPORT+=("$(printf '  %-36s %4d passed, %4d failed%s' "$name" "$p" "$f" \
		"$([ "$s" -gt 0 ] && printf ', %d skipped' "$s")")")
}

summary()
{
	SUMMARY_DONE=1
	echo
	echo "== summary"
	[ ${#REPORT[@]} -gt 0 ] && printf '%s\n' "${REPORT[@]}"
	[ "$PASSED" -eq 0 ] && [ "$FAILED" -eq 0 ] && echo "  no test ran: this run fails"
	if [ "$SKIPPED" -gt 0 ]; then
		echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	else
		echo "$PASSED passed, $FAILED failed"
	fi
}

# Called on any exit: an interrupted or aborted run still ends with a count.
on_exit()
{
	if [ -n "$CHILD" ]; then
		kill -TERM "$CHILD" 2>/dev/null
		wait "$CHILD" 2>/dev/null
	fi
	if [ -z "$SUMMARY_DONE" ]; then
		record "run aborted" 0 1
		summary
	fi
}

# Runs a command in the background (so a signal reaches our trap at once) under
# timeout, which forwards TERM to the command's whole process group.
CHILD=
run_limited()
{
	local log=$1 rc
	shift
	timeout -k 30 "$TIMEOUT" "$@" >"$log" 2>&1 </dev/null {_CLUSTER_LOCK_FD}<&- &
	CHILD=$!
	wait "$CHILD"
	rc=$?
	CHILD=
	[ "$rc" -eq 124 ] && echo "timed out after ${TIMEOUT}s: $*" >>"$log"
	return "$rc"
}

# The value of a Makefile variable, as make sees it.
makevar()
{
	make -s --no-print-directory -f Makefile -f - PG_CONFIG="$PG_CONFIG" \
		isomargin-print-var VAR="$1" 2>/dev/null <<'EOF'
isomargin-print-var:
	@echo $($(VAR))
EOF
}

# The words of a list that ISOMARGIN_ONLY selects (all of them when it is unset).
only()
{
	local w keep=()
	for w in $1; do
		if [ -z "${ISOMARGIN_ONLY:-}" ] || [ "$w" = 00_install ] ||
			grep -qE -- "$ISOMARGIN_ONLY" <<<"$w"; then
			keep+=("$w")
		fi
	done
	echo "${keep[*]:-}"
}

warn_unlisted()
{
	local listed=" $1 " dir=$2 ext=$3 var=$4 f base
	for f in "$dir"/*."$ext"; do
		[ -e "$f" ] || continue
		base=$(basename "$f" ".$ext")
		case "$listed" in
		*" $base "*) ;;
		*) echo "warning: $f is not listed in $var in the Makefile, so it is not run" ;;
		esac
	done
}

# pg_regress and pg_isolation_regress print one line per test ending in its status.
count_regress()
{
	local log=$1 name=$2 rc=$3 expect=$4 p f
	p=$(grep -cE '\.\.\. ok( |$)' "$log")
	f=$(grep -cE '\.\.\. (FAILED|failed)' "$log")
	if [ $((p + f)) -lt "$expect" ]; then
		echo "$name: $((expect - p - f)) of $expect listed tests reported no result; counted as failed"
		f=$((expect - p))
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$name: failed (exit $rc) without a failed test line"
		f=1
	fi
	record "$name" "$p" "$f"
}

run_pg_regress()
{
	local name=$1 list=$2 diffs=$3 log rc
	shift 3
	log="$CLUSTER_DIR/$name.log"
	echo
	echo "== $name: $list"
	rm -f "$diffs"
	run_limited "$log" make -s --no-print-directory PG_CONFIG="$PG_CONFIG" "$@" installcheck
	rc=$?
	grep -vE '^make.*(Entering|Leaving) directory' "$log"
	if [ -s "$diffs" ]; then
		echo "-- $diffs (first 150 lines)"
		head -n 150 "$diffs"
	fi
	count_regress "$log" "$name" "$rc" "$(wc -w <<<"$list")"
}

suite_regress()
{
	local list
	list=$(makevar REGRESS)
	warn_unlisted "$list" sql sql REGRESS
	list=$(only "$list")
	if [ -z "$list" ]; then
		echo "== regress: REGRESS is empty"
		return
	fi
	run_pg_regress regress "$list" regression.diffs ISOLATION= TAP_TESTS= REGRESS="$list"
}

suite_isolation()
{
	local list
	list=$(makevar ISOLATION)
	warn_unlisted "$list" test/specs spec ISOLATION
	list=$(only "$list")
	if [ -z "$list" ]; then
		echo "== isolation: ISOLATION is empty"
		return
	fi
	run_pg_regress isolation "$list" output_iso/regression.diffs REGRESS= TAP_TESTS= ISOLATION="$list"
}

suite_scripts()
{
	local script name log rc line p f db
	for script in test/suites/*.sh; do
		[ -e "$script" ] || continue
		[ -n "$(only "$(basename "$script" .sh)")" ] || continue
		name="suite $(basename "$script" .sh)"
		if [ ! -x "$script" ]; then
			echo "warning: $script is not executable, so it is not run"
			continue
		fi
		echo
		echo "== $name"
		log="$CLUSTER_DIR/suite-$(basename "$script").log"
		db=suite_$(basename "$script" .sh | tr -c 'a-zA-Z0-9_\n' _)
		psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"$db\"" ||
			cluster_die "could not create database $db"
		run_limited "$log" env PGDATABASE="$db" "$script"
		rc=$?
		cat "$log"
		line=$(grep -E '^([A-Za-z_-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
		if [ -z "$line" ]; then
			echo "$name: exit $rc and no 'N passed, N failed' line"
			record "$name" 0 1
			continue
		fi
		p=$(sed -E 's/^([A-Za-z_-]+: )?([0-9]+) passed.*/\2/' <<<"$line")
		f=$(sed -E 's/^([A-Za-z_-]+: )?[0-9]+ passed, ([0-9]+) failed.*/\2/' <<<"$line")
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			echo "$name: exit $rc though it reported no failure"
			f=1
		fi
		record "$name" "$p" "$f"
	done
}

# TAP tests start clusters themselves (initdb refuses root), so they run as the server's
# OS user from a copy of the tree that user can read; their logs are copied back into
# tmp_check/ for inspection.
suite_tap()
{
	local files=(test/t/*.pl) src file log rc p f s x bindir pgxs
	[ -e "${files[0]}" ] || return 0
	bindir=$("$PG_CONFIG" --bindir)
	pgxs=$(dirname "$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")")
	if [ ! -f "$pgxs/src/test/perl/PostgreSQL/Test/Cluster.pm" ]; then
		record "tap (no PostgreSQL::Test in $pgxs)" 0 1
		return
	fi
	src="$CLUSTER_DIR/tap"
	mkdir -p "$src/tmp"
	tar -c --exclude=./.git --exclude=./tmp_check --exclude=./results --exclude=./output_iso \
		--exclude=./bench/out --exclude=./demo-out . |
		tar -x -C "$src"
	[ "$(id -u)" -eq 0 ] && chown -R postgres: "$src"
	for file in "${files[@]}"; do
		[ -n "$(only "$(basename "$file" .pl)")" ] || continue
		echo
		echo "== tap $file"
		log="$CLUSTER_DIR/tap-$(basename "$file").log"
		run_limited "$log" $(as_server_prefix) env -C "$src" PATH="$bindir:$PATH" \
			TESTDIR="$src" TMPDIR="$src/tmp" PG_REGRESS="$pgxs/src/test/regress/pg_regress" \
			ISOMARGIN_ROOT="$src" PG_CONFIG="$PG_CONFIG" \
			prove -v -I "$pgxs/src/test/perl" -I . "$file"
		rc=$?
		cluster_stop_below "$src/tmp_check"
		p=$(grep -cE '^ok [0-9]+' "$log")
		s=$(grep -cE '^not ok [0-9]+.*# TODO|^ok [0-9]+ # skip' "$log")
		p=$((p - $(grep -cE '^ok [0-9]+ # skip' "$log")))
		f=$(grep -E '^not ok [0-9]+' "$log" | grep -vc '# TODO')
		x=$(sed -nE 's/^Failed ([0-9]+)\/[0-9]+ subtests.*/\1/p' "$log" | tail -n 1)
		[ -n "$x" ] && [ "$x" -gt "$f" ] && f=$x
		[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
		if [ "$f" -gt 0 ]; then
			cat "$log"
			local tlog="$src/tmp_check/log/regress_log_$(basename "$file" .pl)"
			if [ -f "$tlog" ]; then
				echo "-- $tlog (last 60 lines)"
				tail -n 60 "$tlog"
			fi
		else
			grep -E '^(Files=|Result:)' "$log"
		fi
		record "tap $(basename "$file" .pl)" "$p" "$f" "$s"
	done
	rm -rf tmp_check/log
	mkdir -p tmp_check
	[ -d "$src/tmp_check/log" ] && cp -r "$src/tmp_check/log" tmp_check/log
}

as_server_prefix()
{
	[ "$(id -u)" -eq 0 ] && echo runuser -u postgres --
}

main()
{
	local want=("$@") s
	[ ${#want[@]} -eq 0 ] && want=(regress isolation suites tap)
	for s in "${want[@]}"; do
		case "$s" in
		regress | isolation | suites | tap) ;;
		*) cluster_die "unknown suite '$s' (regress, isolation, suites, tap)" ;;
		esac
	done

	cluster_prereqs
	cluster_lock
	cluster_start
	cluster_at_exit on_exit

	if ! cluster_build; then
		record "build (make, make install)" 0 1
	else
		for s in "${want[@]}"; do
			case "$s" in
			regress) suite_regress ;;
			isolation) suite_isolation ;;
			suites) suite_scripts ;;
			tap) suite_tap ;;
			esac
		done
	fi

	cluster_stop
	summary
	[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
}

main "$@"
