#!/usr/bin/env bash
# bench/liquidation_throughput.sh: how fast the liquidation worker empties a
# crashed book, where each liquidation's time goes, and whether a mark
# update's latency changes while workers run.
#
#   bash bench/liquidation_throughput.sh [--positions N] [--seconds S] [--role] [--nice K]
#
#   --positions N   positions in the crashed book (default 20000; three in four flagged);
#                   the feed's runs take a larger one when the workers would empty this
#                   one before the feed ends (sized from the rate just measured)
#   --seconds S     length of each pgbench feed run (default 5; the workers must outlast it)
#   --role          the workers run as a role with exactly the documented grants (not a superuser)
#   --nice K        the workers that empty the book call liquidation_worker with nice => K
#                   (0 to 19; default: none, the server's priority)
#
# On a fresh cluster (synchronous_commit off, as a feed would run; fsync on): where a
# liquidation's time goes (one worker empties the book with track_functions = all:
# each function's own time and its time with what it calls, per liquidation, and the
# worker's own share, its loop and the commits); the book (bench/liquidation_book.sql)
# emptied by one worker, then again by two at once (liquidations per second = ledger
# rows / wall time, one transaction per position); a price feed's single-row mark
# updates of an instrument that crosses nothing (pgbench, one client, prepared; its rate,
# average and percentiles), alone, while one worker empties the book, while two do, each
# also with the workers at a lower OS priority (renice +19 of their backends: the feed's
# sessions keep theirs), and alone again.  The feed runs' workers are called with
# nice => NULL and reniced by the script, as labelled.  Output is kept in bench/out/.
set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$BENCH_DIR/../test/lib/cluster.sh"

positions=20000
seconds=5
role=
worker_nice=NULL
while [ $# -gt 0 ]; do
	case $1 in
		--positions) positions=${2:-}; shift ;;
		--positions=*) positions=${1#*=} ;;
		--seconds) seconds=${2:-}; shift ;;
		--seconds=*) seconds=${1#*=} ;;
		--role) role=bench_worker ;;
		--nice) worker_nice=${2:-}; shift ;;
		--nice=*) worker_nice=${1#*=} ;;
		-h|--help) sed -n '7,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
		*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
[[ $positions =~ ^[1-9][0-9]*$ ]] || cluster_die "--positions must be a positive whole number"
[[ $seconds =~ ^[1-9][0-9]*$ ]] || cluster_die "--seconds must be a positive whole number"
[[ $worker_nice =~ ^(NULL|[0-9]|1[0-9])$ ]] || cluster_die "--nice must be a whole number from 0 to 19"

cluster_prereqs </dev/null
cluster_lock
cluster_build || cluster_die "build failed"
# pg_stat_statements (track none but in the breakdown's session): the worker's statements
cluster_start -c fsync=on -c synchronous_commit=off -c shared_buffers=512MB -c max_wal_size=4GB \
	-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=none
mkdir -p "$BENCH_DIR/out"
OUT="$BENCH_DIR/out/liquidation-$(date -u +%Y%m%dT%H%M%SZ).txt"
exec > >(tee "$OUT") 2>&1

q()
{
	psql -X -q -v ON_ERROR_STOP=1 -d bench "$@"
}
now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}
# a worker's session: as the --role role when given (the role GUC at connection)
qw()
{
	PGOPTIONS="${role:+-c role=$role}" q "$@"
}
# the book of $1 positions (default --positions)
load()
{
	q -v n="${1:-$positions}" -f "$BENCH_DIR/liquidation_book.sql" >/dev/null || cluster_die "loading the book failed"
	[ -z "$role" ] || q -v role="$role" -f "$BENCH_DIR/liquidation_role.sql" >/dev/null ||
		cluster_die "granting the worker role failed"
}

psql -X -q -d postgres -c "CREATE DATABASE bench" || cluster_die "cannot create the database"
q -c "CREATE EXTENSION isomargin" -c "CREATE EXTENSION pg_stat_statements"
echo "commit $(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null), $(nproc) cores, $(psql -X -At -d bench -c 'SHOW server_version')"
echo "workers that empty the book: nice => $worker_nice"
echo "book: $positions positions on 4 instruments, crash to 90 flags three in four; synchronous_commit off, fsync on"
echo "workers run as: ${role:-the superuser} $([ -n "$role" ] && echo '(exactly the grants of doc/liquidation.md, Rights; row security applies)')"

echo
echo "== where one worker's time goes (track_functions = all; microseconds per liquidation)"
load
q -c "SELECT pg_stat_reset(), pg_stat_statements_reset()" >/dev/null
t0=$(now_ms)
# the backend's CPU time too (user + system, /proc/PID/stat): on a shared machine the
# wall time includes waiting for a core, the CPU time not
export CLUSTER_DIR
q ${role:+-v role="$role"} -v nice="$worker_nice" <<'SQL'
SELECT pg_backend_pid() AS pid \gset
\setenv PID :pid
\! awk '{print $14 + $15}' /proc/$PID/stat > "$CLUSTER_DIR/cpu0"
SET track_functions = 'all';
SET pg_stat_statements.track = 'all';
\if :{?role}
SET ROLE :"role";
\endif
CALL isomargin.liquidation_worker('w1', nice => :nice);
\! awk '{print $14 + $15}' /proc/$PID/stat > "$CLUSTER_DIR/cpu1"
SQL
ms=$(($(now_ms) - t0))
cpu_ms=$((($(cat "$CLUSTER_DIR/cpu1") - $(cat "$CLUSTER_DIR/cpu0")) * 1000 / $(getconf CLK_TCK)))
q -v ms="$ms" -v cpu_ms="$cpu_ms" -f "$BENCH_DIR/liquidation_cost.sql"

echo
echo "== one worker's cost over the run: its backend's CPU time per liquidation, by sixths of the book"
load
flagged=$(q -At -c "SELECT count(*) FROM positions WHERE status >= 'liquidate'")
chunk=$(((flagged + 5) / 6))
{
	echo "SELECT pg_backend_pid() AS pid \\gset"
	[ -z "$role" ] || echo "SET ROLE $role;"
	echo "\\setenv PID :pid"
	for i in 1 2 3 4 5 6; do
		echo "\\! awk '{print \$14 + \$15}' /proc/\$PID/stat > \"\$CLUSTER_DIR/cpu0\""
		echo "CALL isomargin.liquidation_worker('w1', $chunk, nice => $worker_nice);"
		echo "\\! awk '{print \$14 + \$15}' /proc/\$PID/stat > \"\$CLUSTER_DIR/cpu1\"; echo \"   sixth $i: \$(( (\$(cat \$CLUSTER_DIR/cpu1) - \$(cat \$CLUSTER_DIR/cpu0)) * 1000000 / $(getconf CLK_TCK) / $chunk )) us a liquidation\""
	done
} >"$CLUSTER_DIR/sixths.sql"
q -f "$CLUSTER_DIR/sixths.sql"

for workers in 1 2; do
	load
	flagged=$(q -At -c "SELECT count(*) FROM positions WHERE status >= 'liquidate'")
	t0=$(now_ms)
	pids=()
	for w in $(seq 1 "$workers"); do
		qw -c "CALL isomargin.liquidation_worker('w$w', nice => $worker_nice)" &
		pids+=($!)
	done
	wait "${pids[@]}"   # not a bare wait: it would wait for the tee of the output too
	ms=$(($(now_ms) - t0))
	rows=$(q -At -c "SELECT count(*) FROM isomargin.insurance_ledger WHERE entry = 'liquidation'")
	left=$(q -At -c "SELECT count(*) FROM positions WHERE status >= 'liquidate'")
	echo
	rate=$((rows * 1000 / (ms > 0 ? ms : 1)))
	[ "$rate" -gt "${fastest:-0}" ] && fastest=$rate
	echo "== $workers worker(s): $flagged flagged, $rows liquidated in $ms ms: $rate per second; left flagged: $left"
done

# The feed's runs need workers that outlast the feed: a book sized from the fastest rate
# just measured, its three flagged in four taking the workers the feed's seconds and two more.
feed_positions=$((fastest * (seconds + 2) * 4 / 3))
[ "$feed_positions" -lt "$positions" ] && feed_positions=$positions

echo
echo "== mark update latency of an instrument crossing nothing (pgbench, 1 client, ${seconds} s; microseconds)"
echo "   (a book of $feed_positions positions, so that the workers outlast the feed)"
cat >"$CLUSTER_DIR/feed.sql" <<'SQL'
\set p random(0, 1)
UPDATE marks SET mark_price = 100 + :p * 0.01 WHERE symbol = 'QUIET';
SQL
chmod a+rx "$CLUSTER_DIR"
# one run of the feed: its updates a second, and the average and percentiles of their
# latencies (pgbench -l: one line per update, the latency in its third field)
# (with $2 = 0: pgbench and its backend kept on core 0, taskset)
feed()
{
	local fp pin=() b
	rm -f "$CLUSTER_DIR"/feedlog*
	[ -n "${2:-}" ] && pin=(taskset -c "$2")
	"${pin[@]}" pgbench -n -M prepared -c 1 -T "$seconds" -l --log-prefix="$CLUSTER_DIR/feedlog" \
		-f "$CLUSTER_DIR/feed.sql" bench >/dev/null 2>&1 &
	fp=$!
	if [ -n "${2:-}" ]; then
		for i in $(seq 1 50); do
			b=$(q -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench'")
			[ -n "$b" ] && break
			sleep 0.01
		done
		[ -n "$b" ] && taskset -cp "$2" "$b" >/dev/null
	fi
	wait "$fp" || cluster_die "pgbench failed"
	cut -d' ' -f3 "$CLUSTER_DIR"/feedlog* | sort -n | awk -v s="$seconds" -v label="$1" '
		{ v[NR] = $1; sum += $1 }
		END {
			p = "p50 p90 p99 p99.9"; split(p, names, " "); split("0.5 0.9 0.99 0.999", f, " ")
			line = sprintf("%-44s %6d/s  avg %5d", label, NR / s, sum / NR)
			for (i = 1; i <= 4; i++) { k = int(NR * f[i]); if (k < 1) k = 1; line = line sprintf("  %s %5d", names[i], v[k]) }
			print line
		}'
}
# workers:nice:pin -- one worker leaves a core to the feed; two take both; nice +19 gives
# the feed's backend the core first (the workers' backends reniced once they run); pin 1
# keeps the workers' backends on the second core and the feed (pgbench and its backend) on
# the first (taskset)
for run in 0:0:0 1:0:0 1:19:0 1:19:1 0:0:0 2:0:0 2:19:0 0:0:0; do
	n=${run%%:*}
	nice=${run#*:}
	pin=${nice#*:}
	nice=${nice%%:*}
	load "$feed_positions"
	if [ "$n" -eq 0 ]; then
		feed "alone"
		continue
	fi
	pids=()
	for w in $(seq 1 "$n"); do
		qw -c "CALL isomargin.liquidation_worker('w$w', nice => NULL)" &
		pids+=($!)
	done
	if [ "$nice" -ne 0 ]; then
		for i in $(seq 1 50); do
			backends=$(q -At -c "SELECT pid FROM pg_stat_activity WHERE query LIKE 'CALL isomargin.liquidation_worker%' AND pid <> pg_backend_pid()")
			[ "$(echo "$backends" | grep -c .)" -eq "$n" ] && break
			sleep 0.02
		done
		renice -n "$nice" -p $backends >/dev/null
		if [ "$pin" -eq 1 ]; then
			for b in $backends; do taskset -cp 1 "$b" >/dev/null; done
		fi
	fi
	if [ "$pin" -eq 1 ]; then
		feed "while $n worker(s) run at nice $nice, on core 1" 0
	else
		feed "while $n worker(s) run at nice $nice"
	fi
	running=0
	for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
	echo "   liquidated during the run: $(q -At -c "SELECT count(*) FROM isomargin.insurance_ledger WHERE entry = 'liquidation'"); workers still running at its end: $running of $n"
	[ "$running" -lt "$n" ] && echo "   (not a measure of the feed beside $n worker(s): they finished before it did)"
	wait "${pids[@]}"
done
echo
echo "output kept in $OUT"
