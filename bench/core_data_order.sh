#!/usr/bin/env bash
# bench/core_data_order.sh: how much of a figure's time, and of the bare scan's,
# goes to branches that depend on the data, by timing the same book in four
# orders: as loaded (positions by id, instruments interleaved: the order every
# other core benchmark uses) and copies sorted by kind, by side, and by symbol
# (which fixes the kind and the magnitudes of the values).  A sorted copy makes
# those branches predictable; the time it saves is what they cost.
#
#   bash bench/core_data_order.sh [rows] [--reps K]   (default 2000000, 5; about 6 minutes)
#
# Each round times every query on every table in turn (the first round is a
# warm-up, left out); each figure's ratio is taken over the bare scan of the
# same table in the same round, the median over the rounds.  One core a query,
# no JIT.  Output goes to bench/out/core_data_order-<stamp>.txt.
set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$BENCH_DIR/../test/lib/cluster.sh"
. "$BENCH_DIR/lib/core_book.sh"

rows=2000000
reps=5
while [ $# -gt 0 ]; do
	case $1 in
		--reps) [ $# -ge 2 ] || cluster_die "--reps needs a value"; reps=$2; shift 2 ;;
		*) rows=$1; shift ;;
	esac
done
[[ $rows =~ ^[1-9][0-9]*$ ]] || cluster_die "rows must be a positive whole number, not '$rows'"
[[ $reps =~ ^[1-9][0-9]*$ ]] && [ "$reps" -ge 2 ] || cluster_die "--reps must be 2 or more"

cluster_prereqs
cluster_lock
cluster_build >/dev/null || cluster_die "build failed"
# four copies of the book in shared buffers
cluster_start -c shared_buffers=$(($(core_book_shared_mb "$rows") * 4))MB -c work_mem=64MB \
	-c jit=off -c max_parallel_workers_per_gather=0
export PGOPTIONS='-c client_min_messages=warning'
mkdir -p "$BENCH_DIR/out"
out="$BENCH_DIR/out/core_data_order-$(date -u +%Y%m%dT%H%M%SZ).txt"

{
	echo "isomargin data order: $rows positions, $reps rounds (the first a warm-up), seed 0.42"
	echo "command: bash bench/core_data_order.sh $rows --reps $reps"
	echo "commit: $(git -C "$ISOMARGIN_ROOT" rev-parse --short HEAD 2>/dev/null)"
	echo "machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)"
} | tee "$out"

core_psql -c "CREATE EXTENSION isomargin" -c "CREATE EXTENSION pg_prewarm" >/dev/null ||
	cluster_die "cannot create the extensions"
core_psql -v rows="$rows" -v seed=0.42 -f "$BENCH_DIR/core_load.sql" >/dev/null ||
	cluster_die "loading the book failed"
for spec in "by_kind:kind, id" "by_side:sign(size), id" "by_symbol:symbol, id"; do
	core_psql -c "CREATE TABLE ${spec%%:*} AS SELECT * FROM positions ORDER BY ${spec#*:}" \
		-c "VACUUM (FREEZE, ANALYZE) ${spec%%:*}" || cluster_die "copying the book failed"
done
# written out before the timing (bench/lib/core_book.sh says why)
core_psql -c CHECKPOINT || cluster_die "CHECKPOINT failed"
sync
core_psql -At -c "SELECT pg_prewarm(t) FROM unnest('{positions,by_kind,by_side,by_symbol}'::regclass[]) t" \
	>/dev/null || cluster_die "pg_prewarm failed"

core_psql -v reps="$reps" -f "$BENCH_DIR/core_data_order.sql" | tee -a "$out" ||
	cluster_die "core_data_order.sql failed"
cluster_log "output kept in $out"
