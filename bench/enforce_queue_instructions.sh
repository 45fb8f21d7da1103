#!/usr/bin/env bash
# bench/enforce_queue_instructions.sh: instructions one committed mark update costs
# under enforcement, counted by callgrind in a single-user backend, crossing
# none and crossing 10 positions of a book of N (bench/enforce_book.sql).
#
#   bash bench/enforce_queue_instructions.sh [N] [TREE]
#
#   N     positions in the book (default 10000, at least 4000)
#   TREE  the source tree to build and install (default: this one); pass an
#         export of another commit (git archive) to count it on the same
#         machine, in the same way
#
# Each count is one backend that runs a warm-up pair of updates then 20 more,
# minus one that runs the warm-up pair only, divided by 20: the steady cost of
# an update, plans prepared and caches filled.  Crossing 10, each update
# writes 10 events (the event writing of the crossing's hot path).
set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
n=${1:-10000}
[[ $n =~ ^[1-9][0-9]*$ ]] && [ "$n" -ge 4000 ] || { echo "N must be a whole number >= 4000" >&2; exit 2; }
if [ $# -ge 2 ]; then
	ISOMARGIN_ROOT=$(cd "$2" && pwd) || exit 2
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
	-f "$BENCH_DIR/enforce_book.sql" >/dev/null || cluster_die "loading the book failed"
bindir=$("$PG_CONFIG" --bindir)
callgrind_stop_server

# instructions of one single-user backend running the statements on stdin
count()
{
	callgrind_single postgres
}

# the mark set to $1 by a backend that is not counted
set_mark()
{
	printf 'UPDATE marks SET mark_price = %s\n' "$1" |
		cluster_as_server "$bindir/postgres" --single -D "$CLUSTER_DIR/data" postgres \
		>"$CLUSTER_DIR/single.log" 2>&1 && ! grep -q ERROR "$CLUSTER_DIR/single.log"
}

# from mark b: a warm-up round a, b, then 10 more rounds; each run starts at b
per_update()
{
	local a=$1 b=$2 up="UPDATE marks SET mark_price = "
	local warm="$up$a"$'\n'"$up$b"
	local all=$warm
	for _ in $(seq 10); do all+=$'\n'"$up$a"$'\n'"$up$b"; done
	local w t
	set_mark "$b" || return 1
	w=$(printf '%s\n' "$warm" | count) || return 1
	t=$(printf '%s\n' "$all" | count) || return 1
	echo $(( (t - w) / 20 ))
}

echo "isomargin enforcement: instructions per committed mark update, callgrind, N = $n"
echo "command: bash bench/enforce_queue_instructions.sh $n${2:+ $2}"
echo "tree: $ISOMARGIN_ROOT ($(git -C "$ISOMARGIN_ROOT" rev-parse --short HEAD 2>/dev/null || echo 'not a git tree'))"
echo "$("$bindir/postgres" --version); $(valgrind --version)"
none=$(per_update 29600 29500) || cluster_die "crossing none failed"
ten=$(per_update 29202.8 29200) || cluster_die "crossing 10 failed"
printf '%-28s %14s\n' "crossing none" "$none" "crossing 10 (10 events)" "$ten"
