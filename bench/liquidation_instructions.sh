#!/usr/bin/env bash
# bench/liquidation_instructions.sh: instructions one liquidation costs the
# worker, counted by callgrind in a single-user backend, on the crashed book of
# bench/liquidation_book.sql (flat instruments, no venue convention, policy
# whole).
#
#   bash bench/liquidation_instructions.sh [N] [K] [TREE]
#
#   N     positions in the book (default 2000; three in four flagged)
#   K     liquidations counted (default 500, at most 3N/4 - 11)
#   TREE  the source tree to build and install (default: this one); pass an
#         export of another commit (git archive) to count it on the same
#         machine, in the same way
#
# The count is one backend running CALL isomargin.liquidation_worker('w1', W + K)
# minus one running CALL isomargin.liquidation_worker('w1', W) on a copy of the
# same book, divided by K, with W = 11 warm-up liquidations: the steady cost
# of a liquidation, its statements' plans prepared and past the plan cache's
# first five custom plans (PostgreSQL plans a prepared statement afresh for
# its first five executions before it weighs a generic plan).
# With LIQ_CALLGRIND_KEEP=DIR, the callgrind file of the W + K run is copied to
# DIR (for callgrind_annotate).
set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
n=${1:-2000}
k=${2:-500}
warm=11
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "N must be a positive whole number" >&2; exit 2; }
[[ $k =~ ^[1-9][0-9]*$ ]] && [ $((k + warm)) -le $((n * 3 / 4)) ] ||
	{ echo "K must be a positive whole number, at most 3N/4 - $warm" >&2; exit 2; }
if [ $# -ge 3 ]; then
	ISOMARGIN_ROOT=$(cd "$3" && pwd) || exit 2
	export ISOMARGIN_ROOT
fi
. "$BENCH_DIR/../test/lib/cluster.sh"
. "$BENCH_DIR/lib/callgrind.sh"

callgrind_prereqs
cluster_lock
cluster_build || cluster_die "build failed"
cluster_start
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION isomargin" >/dev/null || cluster_die "CREATE EXTENSION failed"
PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -v n="$n" \
	-f "$BENCH_DIR/liquidation_book.sql" >/dev/null || cluster_die "loading the book failed"
bindir=$("$PG_CONFIG" --bindir)
callgrind_stop_server
# each count starts from the same crashed book
cluster_as_server cp -a "$CLUSTER_DIR/data" "$CLUSTER_DIR/book" || cluster_die "cannot copy the book"

# instructions of one single-user backend running CALL liquidation_worker('w1', $1)
count()
{
	cluster_as_server rm -rf "$CLUSTER_DIR/data" &&
		cluster_as_server cp -a "$CLUSTER_DIR/book" "$CLUSTER_DIR/data" || return 1
	printf "CALL isomargin.liquidation_worker('w1', %s)\n" "$1" | callgrind_single postgres
}

echo "isomargin liquidation: instructions per liquidation, callgrind, N = $n, K = $k"
echo "command: bash bench/liquidation_instructions.sh $n $k${3:+ $3}"
echo "tree: $ISOMARGIN_ROOT ($(git -C "$ISOMARGIN_ROOT" rev-parse --short HEAD 2>/dev/null || echo 'not a git tree'))"
echo "$("$bindir/postgres" --version); $(valgrind --version)"
one=$(count $warm) || cluster_die "the run of $warm failed"
all=$(count $((k + warm))) || cluster_die "the run of $warm + K failed"
[ -n "${LIQ_CALLGRIND_KEEP:-}" ] && cp "$CLUSTER_DIR/callgrind.out" "$LIQ_CALLGRIND_KEEP/callgrind.$k.out"
printf '%-28s %14s\n' "per liquidation" "$(( (all - one) / k ))"
