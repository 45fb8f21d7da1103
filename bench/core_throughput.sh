#!/usr/bin/env bash
# bench/core_throughput.sh: throughput of isomargin's core functions over a
# whole book of positions, as ratios against baselines measured in the same run.
#
#   bash bench/core_throughput.sh [rows] [--quick] [--reps N] [--seed S]
#
#   rows        positions to load (default 2000000)
#   --quick     smoke test: 100000 rows, 3 repetitions (about a minute with the build)
#   --reps N    timed repetitions of each query (default 5); ratios are taken within each
#               repetition, the table shows their median
#   --seed S    seed of the generated book, in [-1, 1] (default 0.42)
#
# Every query runs on one core (no parallel workers); JIT is left at PostgreSQL's
# default (on), which helps the plain SQL competitor: see bench/README.md.
#
# As root on Debian 12: installs what it needs (apt), builds and installs the
# extension, starts a throwaway PostgreSQL 15 on a private socket (stopped on
# exit), loads the book (bench/core_load.sql), checks that every competitor
# computes the same numbers as the C functions on every row, times
# everything round-robin (bench/core_run.sql) and prints the table.  A copy of
# the output goes to bench/out/.  What is measured and why: bench/README.md.
set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$BENCH_DIR/../test/lib/cluster.sh"
. "$BENCH_DIR/lib/core_book.sh"

rows=2000000
reps=5
seed=0.42

usage()
{
	sed -n '4,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
		--quick) rows=100000; reps=3 ;;
		--reps) [ $# -ge 2 ] || usage; reps=$2; shift ;;
		--reps=*) reps=${1#*=} ;;
		--seed) [ $# -ge 2 ] || usage; seed=$2; shift ;;
		--seed=*) seed=${1#*=} ;;
		-h|--help) usage ;;
		[0-9]*) rows=$1 ;;
		*) echo "unknown argument: $1" >&2; usage ;;
	esac
	shift
done
[[ $rows =~ ^[1-9][0-9]*$ ]] || cluster_die "rows must be a positive whole number, not '$rows'"
[[ $reps =~ ^[1-9][0-9]*$ ]] || cluster_die "--reps must be a positive whole number, not '$reps'"
[[ $seed =~ ^-?(0(\.[0-9]+)?|1(\.0*)?|\.[0-9]+)$ ]] || cluster_die "--seed must be a number in [-1, 1], not '$seed'"

cluster_prereqs </dev/null

# The build lock is held to the end: another tree's install must not swap the
# library under the runs.
cluster_lock
cluster_build || cluster_die "build failed"

shared_mb=$(core_book_shared_mb "$rows")
cluster_start -c shared_buffers=${shared_mb}MB -c work_mem=64MB -c jit=on \
	-c max_parallel_workers_per_gather=0

export PGOPTIONS='-c client_min_messages=warning'
mkdir -p "$BENCH_DIR/out"
out="$BENCH_DIR/out/core_throughput-$(date -u +%Y%m%dT%H%M%SZ).txt"

{
	echo "isomargin core throughput: $rows positions, $reps runs (ratios within each run, median), seed $seed"
	echo "command: bash bench/core_throughput.sh $rows --reps $reps --seed $seed"
	if commit=$(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null); then
		git -C "$BENCH_DIR/.." diff --quiet HEAD -- src install ||
			commit="$commit (with uncommitted changes to src/ or install/)"
	fi
	echo "commit: ${commit:-unknown}"
	echo "machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
	core_psql -At -c "SELECT version()"
	echo "settings: shared_buffers=${shared_mb}MB, jit=on, max_parallel_workers_per_gather=0 (one core per query)"
	echo "load average at start: $(cut -d ' ' -f 1-3 /proc/loadavg)"
} | tee "$out"

core_book_load "$rows" "$seed"

# Warm the cache: the table into shared buffers.  The row-by-row check in
# core_run.sql then runs every query once before the timing starts.
core_psql -At -c "SELECT pg_prewarm('positions'), pg_prewarm('dyn_positions')" >/dev/null ||
	cluster_die "pg_prewarm failed"
core_psql -At -c "SELECT sum(size) FROM positions" >/dev/null

cluster_log "checking the competitors row by row, then timing ($reps runs of each query, round-robin)"
start=$SECONDS
core_psql -v reps="$reps" -f "$BENCH_DIR/core_run.sql" | tee -a "$out"
status=$?
cluster_log "finished in $((SECONDS - start)) s; output kept in ${out#"$BENCH_DIR/../"}"
exit "$status"
