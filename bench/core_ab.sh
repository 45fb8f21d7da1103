#!/usr/bin/env bash
# bench/core_ab.sh: two builds of the library timed against each other, in one
# state of the machine: the same book, the same server, the builds swapped
# between rounds.
#
#   bash bench/core_ab.sh [rows] [--rounds R] [--reps K] [--only REGEX] [--seed S] A B
#
#   A, B        a commit (built in a temporary worktree) or a directory holding an
#               isomargin source tree (built there as it is, uncommitted changes
#               included; "." for this tree)
#   rows        positions to load (default 2000000)
#   --rounds R  rounds (default 4); each runs A then B, or B then A (every other
#               round), each in a fresh session with its library loaded anew
#   --reps K    timed repetitions of each query in a round (default 5)
#   --only RE   the queries of core_throughput.sh whose name matches RE (default:
#               the figures nearest their targets); the bare scans always run
#
# Why: the VM's speed drifts by up to 10% over minutes (bench/README.md), so two
# builds timed in separate runs of core_throughput.sh cannot be told apart by a
# few percent.  Here both run minutes apart on one loaded, warmed table, and
# each is compared with the bare scan of its own session, and with the other
# build over the same round.  Only the shared library is swapped (the next
# session loads the new file): A and B must have the same SQL (install/); the
# script refuses otherwise.  Every query's answer must be the same under A and
# B (checked on the first round).  The tree's own library is installed again
# on exit.  Output goes to bench/out/core_ab-<stamp>.txt.
set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$BENCH_DIR/../test/lib/cluster.sh"
. "$BENCH_DIR/lib/core_book.sh"

rows=2000000
rounds=4
reps=5
seed=0.42
only='^(liquidation_price( with tiers)?: C|margin_call_price with tiers|assess, one call|liquidation_distance(_ratio)? with tiers|margin_status( with tiers)?: C)'
builds=()

usage()
{
	sed -n '6,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
		--rounds) [ $# -ge 2 ] || usage; rounds=$2; shift ;;
		--reps) [ $# -ge 2 ] || usage; reps=$2; shift ;;
		--only) [ $# -ge 2 ] || usage; only=$2; shift ;;
		--seed) [ $# -ge 2 ] || usage; seed=$2; shift ;;
		-h|--help) usage ;;
		[0-9]*) rows=$1 ;;
		-*) echo "unknown argument: $1" >&2; usage ;;
		*) builds+=("$1") ;;
	esac
	shift
done
[ ${#builds[@]} -eq 2 ] || usage
for n in "$rows" "$rounds" "$reps"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || cluster_die "'$n' is not a positive whole number"
done

cluster_prereqs </dev/null
cluster_lock
cluster_build || cluster_die "build failed"

work=$(mktemp -d /tmp/isomargin-ab.XXXXXX) || cluster_die "mktemp failed"
chmod 755 "$work"
libdir=$("$PG_CONFIG" --pkglibdir)
cp "$libdir/isomargin.so" "$work/own.so" || cluster_die "no installed library to keep"

restore_own()
{
	cp "$work/own.so" "$libdir/isomargin.so.ab" && mv -f "$libdir/isomargin.so.ab" "$libdir/isomargin.so"
	for wt in "$work"/wt-*; do
		[ -d "$wt" ] && git -C "$ISOMARGIN_ROOT" worktree remove --force "$wt" >/dev/null 2>&1
	done
	rm -rf "$work"
}
cluster_at_exit restore_own

# Builds one side into $work/NAME.so; its tree's install/ must be this tree's.
build_side()
{
	local name=$1 spec=$2 tree
	if [ -d "$spec" ]; then
		tree=$(cd "$spec" && pwd)
	else
		git -C "$ISOMARGIN_ROOT" rev-parse --verify -q "$spec^{commit}" >/dev/null ||
			cluster_die "$name: '$spec' is neither a directory nor a commit"
		tree="$work/wt-$name"
		git -C "$ISOMARGIN_ROOT" worktree add -q --detach "$tree" "$spec" ||
			cluster_die "$name: cannot check out $spec"
	fi
	diff -rq "$tree/install" "$ISOMARGIN_ROOT/install" >/dev/null ||
		cluster_die "$name ($spec): its install/ differs from this tree's; only the library is swapped"
	make -C "$tree" -s PG_CONFIG="$PG_CONFIG" isomargin.so >/dev/null ||
		cluster_die "$name ($spec): build failed"
	cp "$tree/isomargin.so" "$work/$name.so"
	echo "$name: $spec ($(git -C "$tree" rev-parse --short HEAD 2>/dev/null)$(
		git -C "$tree" diff --quiet HEAD -- src 2>/dev/null || echo ', with uncommitted changes to src/'))"
}

use_side()
{
	cp "$work/$1.so" "$libdir/isomargin.so.ab" && mv -f "$libdir/isomargin.so.ab" "$libdir/isomargin.so"
}

cluster_start -c shared_buffers=$(core_book_shared_mb "$rows")MB -c work_mem=64MB -c jit=on \
	-c max_parallel_workers_per_gather=0

export PGOPTIONS='-c client_min_messages=warning'
mkdir -p "$BENCH_DIR/out"
out="$BENCH_DIR/out/core_ab-$(date -u +%Y%m%dT%H%M%SZ).txt"

{
	echo "isomargin A/B: $rows positions, $rounds rounds of $reps repetitions, seed $seed"
	echo "command: bash bench/core_ab.sh $rows --rounds $rounds --reps $reps --only '$only' ${builds[*]}"
	build_side A "${builds[0]}" || exit 1
	build_side B "${builds[1]}" || exit 1
	echo "machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)"
	echo "load average at start: $(cut -d ' ' -f 1-3 /proc/loadavg)"
} | tee "$out"
[ -f "$work/A.so" ] && [ -f "$work/B.so" ] || cluster_die "a build failed"

core_book_load "$rows" "$seed"
core_psql -v only="$only" -f "$BENCH_DIR/core_ab_setup.sql" | tee -a "$out" ||
	cluster_die "core_ab_setup.sql failed"
core_psql -At -c "SELECT pg_prewarm('positions'), pg_prewarm('dyn_positions')" >/dev/null

for ((round = 1; round <= rounds; round++)); do
	order="A B"
	[ $((round % 2)) -eq 0 ] && order="B A"
	for side in $order; do
		cluster_log "round $round of $rounds: $side"
		use_side "$side"
		core_psql -v side="$side" -v round="$round" -v reps="$reps" \
			-f "$BENCH_DIR/core_ab_round.sql" || cluster_die "round $round ($side) failed"
	done
done
core_psql -f "$BENCH_DIR/core_ab_report.sql" | tee -a "$out"
cluster_log "output kept in ${out#"$BENCH_DIR/../"}"
