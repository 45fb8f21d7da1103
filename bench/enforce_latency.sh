#!/usr/bin/env bash
# bench/enforce_latency.sh: what one committed mark-price update costs under
# isomargin enforcement, as the book grows, against a naive trigger that
# checks every position of the instrument with the same C engine, measured
# in the same run.
#
#   bash bench/enforce_latency.sh [--quick] [--reps N] [--seconds S] [--async-commit]
#
#   --quick      smoke test: books of 10,000 and 100,000 positions, 5 repetitions,
#                5 s of pgbench (a couple of minutes with the build)
#   --reps N     timed mark updates per (N, k) cell for enforcement (default 21);
#                the naive trigger gets fewer at large N (it is slow)
#   --seconds S  length of each pgbench run (default 20)
#   --async-commit  synchronous_commit off: each update's time without its WAL
#                flush, for a machine whose disk other work keeps busy (the
#                flush then varies by 10x between updates); compare tables, not
#                absolute latencies
#
# For N = 10,000, 100,000 and 1,000,000 positions on one instrument (a third
# of them already flagged, as after a crash) and k = 0, 10 and 1,000 of them
# crossing (bench/enforce_book.sql), it times single committed UPDATEs of the
# instrument's mark that flag exactly k positions (median of --reps, with
# synchronous_commit and fsync on), checks the event count, then detaches
# enforcement and times the naive trigger (bench/enforce_naive.sql) on the
# same book and moves; then times the same moves on the same book in a
# positions table partitioned by HASH (id) into 4 (issue 15 item 5).  It
# shows, with plan_cache_mode = force_generic_plan and auto_explain, the plan the trigger's candidate search really runs at
# the smallest and the largest N.  Then pgbench: mark updates per second over
# 100 instruments of 1,000 positions each, and one statement moving all 100
# marks, enforcement against the naive trigger.  Output is kept in bench/out/.
set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$BENCH_DIR/../test/lib/cluster.sh"

sizes="10000 100000 1000000"
reps=21
seconds=20
quick=
sync=on

usage()
{
	sed -n '7,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
		--quick) sizes="10000 100000"; reps=5; seconds=5; quick=1 ;;
		--reps) [ $# -ge 2 ] || usage; reps=$2; shift ;;
		--reps=*) reps=${1#*=} ;;
		--seconds) [ $# -ge 2 ] || usage; seconds=$2; shift ;;
		--seconds=*) seconds=${1#*=} ;;
		--async-commit) sync=off ;;
		-h|--help) usage ;;
		*) echo "unknown argument: $1" >&2; usage ;;
	esac
	shift
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || cluster_die "--reps must be a positive whole number, not '$reps'"
[[ $seconds =~ ^[1-9][0-9]*$ ]] || cluster_die "--seconds must be a positive whole number, not '$seconds'"

cluster_prereqs </dev/null
# the lock is held to the end: another tree's install must not swap the library under the runs
cluster_lock
cluster_build || cluster_die "build failed"

# Commit is part of a mark update's latency: WAL flushed at every commit (unless --async-commit).
cluster_start -c fsync=on -c synchronous_commit=$sync -c shared_buffers=1GB -c max_wal_size=8GB \
	-c checkpoint_timeout=30min -c max_parallel_workers_per_gather=0

export PGOPTIONS='-c client_min_messages=warning'
mkdir -p "$BENCH_DIR/out"
out="$BENCH_DIR/out/enforce_latency-$(date -u +%Y%m%dT%H%M%SZ).txt"
args="${quick:+--quick }--reps $reps --seconds $seconds$([ "$sync" = off ] && echo ' --async-commit')"

psql_run()
{
	psql -X -q -v ON_ERROR_STOP=1 "$@"
}

{
	echo "isomargin enforcement: latency of one committed mark update"
	echo "command: bash bench/enforce_latency.sh $args"
	echo "commit: $(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$BENCH_DIR/.." diff --quiet HEAD -- src install 2>/dev/null || echo ' (with uncommitted changes to src/ or install/)')"
	echo "machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
	psql_run -At -c "SELECT version()"
	echo "settings: $(psql_run -At -c "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'shared_buffers', 'wal_sync_method')")"
	echo "load average at start: $(cut -d ' ' -f 1-3 /proc/loadavg)"
} | tee "$out"

# The moves: name, the flagging move (down), the move back (up), k.
moves="k0 29500 29600 0
k10 29200 29202.8 10
k1000 29099 29400 1000"

# time_moves DB DOWN UP REPS: REPS pairs (down, up) of single-statement
# committed updates, each timed by psql; prints the down times in ms.  The
# mark must be at UP already (set_mark).
set_mark()
{
	psql_run -d "$1" -c "UPDATE marks SET mark_price = $2"
}

time_moves()
{
	local db=$1 down=$2 up=$3 n=$4 i
	{
		echo '\timing on'
		for ((i = 0; i < n; i++)); do
			echo "UPDATE marks SET mark_price = $down;"
			echo "UPDATE marks SET mark_price = $up;"
		done
	} | psql_run -d "$db" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | awk 'NR % 2 == 1'
}

median()
{
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

events()
{
	psql_run -d "$1" -At -c "SELECT count(*) FROM isomargin.events"
}

# Shows the plans the triggers' statements really run (auto_explain logs
# nested statements) with generic plans forced, and fails on a sequential
# scan of positions.
show_plans()
{
	local db=$1 n=$2 plans
	plans=$(psql -X -v ON_ERROR_STOP=1 -d "$db" 2>&1 <<-'EOF'
		SET plan_cache_mode = force_generic_plan;
		LOAD 'auto_explain';
		SET auto_explain.log_min_duration = 0;
		SET auto_explain.log_nested_statements = on;
		SET auto_explain.log_level = notice;
		SET auto_explain.log_analyze = on;
		SET auto_explain.log_timing = off;
		SET client_min_messages = notice;
		UPDATE marks SET mark_price = 29650;
		UPDATE marks SET mark_price = 29600;
	EOF
	)
	echo "candidate search at N = $n, generic plan (auto_explain of the trigger's statement):"
	awk '/^NOTICE:/ { on = 0 } /Query Text: SELECT (m\.ord, c\.\*|CAST\(1 AS pg_catalog\.int8\), p\.ctid)/ { on = 1; n++ } on && n == 2' <<<"$plans" |
		sed -n '/->\|Nested Loop\|Scan\|Cond/p' | sed 's/^NOTICE: *//; s/(actual rows=\([0-9]*\) loops=\([0-9]*\))/(rows=\1 loops=\2)/' | sed 's/^/    /'
	if awk '/^NOTICE:/ { on = 0 } /Query Text: SELECT (m\.ord, c\.\*|CAST\(1 AS pg_catalog\.int8\), p\.ctid)/ { on = 1 } on' <<<"$plans" |
		grep -q 'Seq Scan on positions'; then
		echo "    FAIL: the candidate search scans positions sequentially"
		return 1
	fi
}

declare -A ours naive hashed

# time_all DB N RESULTS REPS LABEL: every move on DB, its median into
# RESULTS[N,move]; fails the run when a move did not flag exactly k positions.
time_all()
{
	local db=$1 n=$2 reps=$4 label=$5 name down up k before got
	local -n into=$3
	while read -r name down up k; do
		set_mark "$db" "$up"
		before=$(events "$db")
		into[$n,$name]=$(time_moves "$db" "$down" "$up" "$reps" | median)
		got=$(( $(events "$db") - before ))
		if [ "$got" -ne $(( 2 * k * reps )) ]; then
			echo "FAIL: ${label}N = $n, $name: $got events from $reps round trips, expected $(( 2 * k * reps ))" |
				tee -a "$out"
			status=1
		fi
	done <<<"$moves"
}
status=0
for n in $sizes; do
	db=book_$n
	psql_run -c "CREATE DATABASE $db" && psql_run -d "$db" -c "CREATE EXTENSION isomargin" ||
		cluster_die "cannot create $db"
	cluster_log "N = $n: loading the book through the positions trigger"
	start=$SECONDS
	psql_run -d "$db" -v n="$n" -f "$BENCH_DIR/enforce_book.sql" >/dev/null || cluster_die "loading failed"
	cluster_log "N = $n: loaded in $((SECONDS - start)) s"
	show_plans "$db" "$n" | tee -a "$out" || status=1

	time_all "$db" "$n" ours "$reps" ""

	psql_run -d "$db" -c "SELECT isomargin.unenforce('positions')" -f "$BENCH_DIR/enforce_naive.sql" >/dev/null ||
		cluster_die "installing the naive trigger failed"
	nreps=$reps
	[ "$n" -ge 1000000 ] && nreps=5
	[ "$n" -ge 100000 ] && [ "$nreps" -gt 9 ] && nreps=9
	time_all "$db" "$n" naive "$nreps" "naive, "
	psql_run -c "DROP DATABASE $db"

	# the same book and moves, the positions table partitioned by HASH (id) into 4
	db=book_${n}_hash
	psql_run -c "CREATE DATABASE $db" && psql_run -d "$db" -c "CREATE EXTENSION isomargin" ||
		cluster_die "cannot create $db"
	cluster_log "N = $n: loading the book partitioned by HASH (id) into 4"
	psql_run -d "$db" -v n="$n" -v hash_partitions=4 -f "$BENCH_DIR/enforce_book.sql" >/dev/null ||
		cluster_die "loading the partitioned book failed"
	time_all "$db" "$n" hashed "$reps" "HASH-partitioned, "
	psql_run -c "DROP DATABASE $db"
done

{
	echo
	echo "median latency of one committed mark update that flags k positions (ms)"
	printf '%10s %6s %12s %12s %9s\n' N k enforcement naive speedup
	for n in $sizes; do
		while read -r name down up k; do
			printf '%10s %6s %12.3f %12.3f %8.0fx\n' "$n" "$k" "${ours[$n,$name]}" "${naive[$n,$name]}" \
				"$(awk -v a="${naive[$n,$name]}" -v b="${ours[$n,$name]}" 'BEGIN { print a / b }')"
		done <<<"$moves"
	done
	echo
	echo "the same, the positions table partitioned by HASH (id) into 4 (ms; ratio to the ordinary table)"
	printf '%10s %6s %12s %12s %9s\n' N k ordinary partitioned ratio
	for n in $sizes; do
		while read -r name down up k; do
			printf '%10s %6s %12.3f %12.3f %8.2fx\n' "$n" "$k" "${ours[$n,$name]}" "${hashed[$n,$name]}" \
				"$(awk -v a="${hashed[$n,$name]}" -v b="${ours[$n,$name]}" 'BEGIN { print a / b }')"
		done <<<"$moves"
	done
	first=${sizes%% *}
	last=${sizes##* }
	echo
	for name in k0 k10 k1000; do
		awk -v a="${ours[$last,$name]}" -v b="${ours[$first,$name]}" -v f="$first" -v l="$last" -v k="${name#k}" \
			'BEGIN { printf "enforcement, k = %s: N = %s takes %.2fx the time of N = %s\n", k, l, a / b, f }'
	done
} | tee -a "$out"

# pgbench: 100 instruments of 1,000 positions (mcp spread over [29500,
# 30500)), random small moves of a random instrument's mark.
cluster_log "pgbench: 100 instruments, $seconds s per run"
db=multi
psql_run -c "CREATE DATABASE $db" && psql_run -d "$db" -c "CREATE EXTENSION isomargin" || cluster_die "cannot create $db"
psql_run -d "$db" >/dev/null <<'EOF' || cluster_die "loading the 100 instruments failed"
CREATE TABLE instruments (symbol text PRIMARY KEY, kind isomargin.contract_kind NOT NULL DEFAULT 'linear',
                          contract_size numeric NOT NULL DEFAULT 1, mmr numeric NOT NULL,
                          fee_rate numeric NOT NULL DEFAULT 0);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric NOT NULL);
CREATE TABLE positions (id bigint PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments (symbol, mmr) SELECT 'S' || lpad(s::text, 3, '0'), 0.05 FROM generate_series(1, 100) s;
INSERT INTO marks SELECT symbol, 31000 FROM instruments;
SELECT isomargin.enforce('positions', 'marks', 'instruments');
INSERT INTO positions
SELECT s * 1000 + g, 'S' || lpad(s::text, 3, '0'), 1, 30000, 30000 - 0.9375 * (29500 + g)
  FROM generate_series(1, 100) s, generate_series(0, 999) g;
UPDATE marks SET mark_price = 30000;
VACUUM ANALYZE positions;
EOF
script=$(mktemp)
cat >"$script" <<'EOF'
\set s random(1, 100)
\set d random(-50, 50)
UPDATE marks SET mark_price = 30000 + :d WHERE symbol = 'S' || lpad(:s::text, 3, '0');
EOF
chmod 644 "$script"
tps()
{
	pgbench -n -f "$script" -c 4 -j 2 -T "$seconds" "$db" 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
all_marks()
{
	printf '\\timing on\n'
	for ((i = 0; i < reps; i++)); do
		echo "UPDATE marks SET mark_price = mark_price - 30;"
		echo "UPDATE marks SET mark_price = mark_price + 30;"
	done
}
before=$(events "$db")
tps_ours=$(tps)
events_tps=$(( $(events "$db") - before ))
set_mark "$db" 30000
before=$(events "$db")
all_ours=$(all_marks | psql_run -d "$db" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | median)
events_all=$(( $(events "$db") - before ))
psql_run -d "$db" -c "SELECT isomargin.unenforce('positions')" -f "$BENCH_DIR/enforce_naive.sql" >/dev/null ||
	cluster_die "installing the naive trigger failed"
tps_naive=$(tps)
set_mark "$db" 30000
all_naive=$(all_marks | psql_run -d "$db" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | median)
rm -f "$script"
{
	echo
	echo "pgbench, 4 clients, $seconds s: random moves of +-50 of one of 100 instruments' marks (1,000 positions each)"
	printf '  enforcement %10.1f updates/s\n  naive       %10.1f updates/s   (enforcement %.1fx)\n' \
		"$tps_ours" "$tps_naive" "$(awk -v a="$tps_ours" -v b="$tps_naive" 'BEGIN { print a / b }')"
	echo "  status changes (events) per update under enforcement: $(awk -v e="$events_tps" -v t="$tps_ours" -v s="$seconds" 'BEGIN { printf "%.1f", e / (t * s) }')"
	echo "one statement moving all 100 marks by 30 (median of $((2 * reps)), ms; $((events_all / (2 * reps))) status changes per statement):"
	printf '  enforcement %10.3f\n  naive       %10.3f   (enforcement %.1fx faster)\n' "$all_ours" "$all_naive" \
		"$(awk -v a="$all_naive" -v b="$all_ours" 'BEGIN { print a / b }')"
} | tee -a "$out"

cluster_log "output kept in ${out#"$BENCH_DIR/../"}"
exit "$status"
