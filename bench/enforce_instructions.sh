#!/usr/bin/env bash
# bench/enforce_instructions.sh: instructions one mark update costs under
# enforcement, counted by callgrind in a single-user backend (repeatable, unlike
# latencies on a shared machine).
#
#   bash bench/enforce_instructions.sh [positions]      (default 10000)
#
# One instrument (mmr 0.004) with `positions` longs whose liquidation prices
# are spread 0.9 apart from 20000 up, enforced, in three databases: instruments
# without a price_band column, with one left NULL, with a band of 50% (a code
# without bands treats the three alike).  Each case runs 50 committed mark
# updates in one single-user backend; the count of a backend that runs only
# SELECT 1 is subtracted and the rest divided by 50.  Cases: moves that cross
# nothing (+0.01 each), and moves of -9 that cross about 10 positions'
# thresholds each.  Two more databases hold the first book in a partitioned
# positions table (LIST (symbol), HASH (id)), and one more the first book with
# a liquidity curve of 20 bid levels on its instrument (each position's
# liquidity add-on, issue 18 item 3); the ratio column compares each case
# with the same moves on the first book, in the same run.  Then the
# steady state of the ordinary, LIST and HASH books (each run after a
# rolled-back warm-up, whose own count is subtracted), with moves crossing
# about 100 and about 1 each too (bench/README.md, "Partitioned positions
# tables").
set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$BENCH_DIR/../test/lib/cluster.sh"
. "$BENCH_DIR/lib/callgrind.sh"

rows=${1:-10000}
[[ $rows =~ ^[1-9][0-9]*$ ]] || cluster_die "positions must be a positive whole number, not '$rows'"

callgrind_prereqs
cluster_lock
cluster_build || cluster_die "build failed"
cluster_start
bindir=$("$PG_CONFIG" --bindir)

psql_run()
{
	PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 "$@"
}

# Three books: no price_band column; a price_band column left NULL; a band of 50%.
# Two more, the first book partitioned (issue 15 item 5): by LIST (symbol), one
# partition per instrument (BTC's holds the book, three others are empty), and by
# HASH (id) into 4 partitions that share the book.
# The same three again with a second instrument, ETH, for the steady-state runs
# (book_w, list4_w, hash4_w; below).
for db in book bandnull band50 list4 hash4 liq book_w list4_w hash4_w; do
	psql_run -c "CREATE DATABASE $db" || cluster_die "CREATE DATABASE failed"
	part= ; parts= ; pk="id" ; eth="SET client_min_messages = warning"
	case $db in *_w)
		# 40 ETH longs, liquidation prices 1500 + 10 i: margin = 2000 - 0.996 * lp
		eth="INSERT INTO instruments VALUES ('ETH', 0.004); INSERT INTO marks VALUES ('ETH', 2000);
INSERT INTO positions SELECT $rows + i, 'ETH', 1, 2000, 2000 - 0.996 * (1500 + 10 * i) FROM generate_series(0, 39) i" ;;
	esac
	case ${db%_w} in
		book) band_col= ; band_val= ;;
		bandnull) band_col=", price_band numeric" ; band_val=", NULL" ;;
		band50) band_col=", price_band numeric" ; band_val=", 0.5" ;;
		list4) band_col= ; band_val= ; pk="symbol, id" ; part="PARTITION BY LIST (symbol)"
			parts="CREATE TABLE positions_btc PARTITION OF positions FOR VALUES IN ('BTC');
CREATE TABLE positions_eth PARTITION OF positions FOR VALUES IN ('ETH');
CREATE TABLE positions_sol PARTITION OF positions FOR VALUES IN ('SOL');
CREATE TABLE positions_xrp PARTITION OF positions FOR VALUES IN ('XRP');" ;;
		liq) band_col=", liquidity_curve jsonb"
			band_val=", isomargin.liquidity_curve(29500, ARRAY(SELECT 29500 - k FROM generate_series(1, 20) k), array_fill(0.5::numeric, ARRAY[20]), '{}', '{}', 0.01)" ;;
		hash4) band_col= ; band_val= ; part="PARTITION BY HASH (id)"
			parts=$(for r in 0 1 2 3; do
				echo "CREATE TABLE positions_$r PARTITION OF positions FOR VALUES WITH (MODULUS 4, REMAINDER $r);"
			done) ;;
	esac
	psql_run -d "$db" -v rows="$rows" -v band_col="$band_col" -v band_val="$band_val" \
		-v pk="$pk" -v part="$part" -v parts="$parts" -v eth="$eth" <<'SQL' ||
CREATE EXTENSION isomargin;
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL :band_col);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric NOT NULL);
CREATE TABLE positions (id int, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL,
                        PRIMARY KEY (:pk)) :part;
:parts
INSERT INTO instruments VALUES ('BTC', 0.004 :band_val);
INSERT INTO marks VALUES ('BTC', 29500);
-- liquidation price 20000 + 0.9 i: margin = 30000 - 0.996 * lp
INSERT INTO positions
SELECT i, 'BTC', 1, 30000, 30000 - 0.996 * (20000 + 0.9 * i) FROM generate_series(0, :rows - 1) i;
:eth;
SELECT isomargin.enforce('positions', 'marks', 'instruments') IS NOT NULL AS enforced;
VACUUM ANALYZE positions;
SQL
		cluster_die "loading the book failed"
done
callgrind_stop_server

# Instructions of one single-user backend running the statements in $2 in database $1.
count_instructions()
{
	printf '%s\n' "$2" | callgrind_single "$1" -- -c max_parallel_workers_per_gather=0
}

# 50 mark updates from $1 by $2 each, one statement (and transaction) each.
updates()
{
	awk -v from="$1" -v step="$2" 'BEGIN { for (i = 1; i <= 50; i++)
		printf "UPDATE marks SET mark_price = %.2f WHERE symbol = '"'"'BTC'"'"'\n", from + i * step }'
}

echo "isomargin enforcement: instructions a mark update, $rows positions, callgrind (single-user backend)"
echo "command: bash bench/enforce_instructions.sh $rows"
echo "commit: $(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$BENCH_DIR/.." diff --quiet HEAD -- src install 2>/dev/null || echo ' (with uncommitted changes to src/ or install/)')"
echo "$("$bindir/postgres" --version); $(valgrind --version)"
base=$(count_instructions book "SELECT 1") || cluster_die "start-up run failed"
# Each database's runs continue from its last mark: 29500.01 .. 29500.50 cross
# nothing (the highest threshold is a margin-call price near 29029); then
# 29031, 29022, ... 28590 cross the margin-call prices and, three steps later,
# the liquidation prices of about 10 positions each (0.9 apart).
# The ratio column: per update, against the same moves on the first book.
declare -A per_update
run()
{
	local db=$1 name=$2 from=$3 step=$4 n per ratio=
	n=$(count_instructions "$db" "$(updates "$from" "$step")") || cluster_die "$name failed"
	per=$(( (n - base) / 50 ))
	per_update[$db,$step]=$per
	[ "$db" != book ] && ratio=$(awk -v a="$per" -v b="${per_update[book,$step]}" 'BEGIN { printf "%.3f", a / b }')
	printf '%-58s %14s %12s %8s\n' "$name" "$n" "$per" "$ratio"
}
printf '\n%-58s %14s %12s %8s\n' "case" "instructions" "per update" "ratio"
run book "crossing nothing" 29500 0.01
run book "crossing about 10 each" 29040 -9
run bandnull "crossing nothing, price_band column (NULL)" 29500 0.01
run bandnull "crossing about 10 each, price_band column (NULL)" 29040 -9
run band50 "crossing nothing, price_band 0.5" 29500 0.01
run band50 "crossing about 10 each, price_band 0.5" 29040 -9
run list4 "crossing nothing, LIST (symbol), 4 partitions" 29500 0.01
run list4 "crossing about 10 each, LIST (symbol), 4 partitions" 29040 -9
run hash4 "crossing nothing, HASH (id), 4 partitions" 29500 0.01
run hash4 "crossing about 10 each, HASH (id), 4 partitions" 29040 -9
run liq "crossing nothing, liquidity_curve (20 bid levels)" 29500 0.01
run liq "crossing about 10 each, liquidity_curve (20 bid levels)" 29040 -9
# What a crossing costs: (crossing about 10 each - crossing nothing) / 10, per book.
echo
for db in book list4 hash4 liq; do
	printf '%-58s %12s\n' "one crossing, $db" \
		$(( (per_update[$db,-9] - per_update[$db,0.01]) / 10 ))
done

# Steady state: what a mark update costs once the backend has prepared its
# statements and read its caches (a long-lived backend), where the runs above
# spread those one-time costs over their 50 updates (4 partitions pay them 4
# times).  Each run starts with a warm-up, rolled back: ETH's mark moved across
# its 40 positions (every partition written to, every statement prepared); the
# count of a backend that runs the warm-up alone is subtracted.  ETH's index
# entries lie apart from BTC's (symbol leads the key), so the rolled-back rows
# are not in BTC's way.  Cases: nothing, about 10, about 100 crossings each,
# then moves of 0.45 that cross one threshold or none or two (about 1 each:
# under HASH (id) mostly in one partition).
warm="BEGIN
UPDATE marks SET mark_price = 1000 WHERE symbol = 'ETH'
ROLLBACK"
declare -A steady
run_steady()
{
	local db=$1 name=$2 from=$3 step=$4 n w per ratio=
	w=$(count_instructions "$db" "$warm") || cluster_die "$name: warm-up failed"
	n=$(count_instructions "$db" "$warm
$(updates "$from" "$step")") || cluster_die "$name failed"
	per=$(( (n - w) / 50 ))
	steady[$db,$step]=$per
	[ "$db" != book_w ] && ratio=$(awk -v a="$per" -v b="${steady[book_w,$step]}" 'BEGIN { printf "%.3f", a / b }')
	printf '%-58s %14s %12s %8s\n' "$name" "$n" "$per" "$ratio"
}
printf '\n%-58s %14s %12s %8s\n' "steady state (warm-up subtracted)" "instructions" "per update" "ratio"
for db in book_w list4_w hash4_w; do
	case $db in
		book_w) label="ordinary table" ;;
		list4_w) label="LIST (symbol), 4 partitions" ;;
		hash4_w) label="HASH (id), 4 partitions" ;;
	esac
	run_steady $db "crossing nothing, $label" 29500 0.01
	run_steady $db "crossing about 10 each, $label" 29040 -9
	run_steady $db "crossing about 100 each, $label" 28590 -90
	run_steady $db "crossing about 1 each, $label" 24090 -0.45
done
# A crossing: (about 10 - nothing) / 10, and at the margin (about 100 - about 10) / 90.
echo
for db in book_w list4_w hash4_w; do
	one=$(( (steady[$db,-9] - steady[$db,0.01]) / 10 ))
	marginal=$(( (steady[$db,-90] - steady[$db,-9]) / 90 ))
	printf '%-58s %12s\n' "steady: one crossing (10 - nothing) / 10, $db" "$one"
	printf '%-58s %12s\n' "steady: one more crossing (100 - 10) / 90, $db" "$marginal"
done
