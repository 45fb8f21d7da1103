#!/usr/bin/env bash
# bench/core_instructions.sh: instructions a row of the core price functions,
# as ratios against the bare scan, counted by callgrind: the same count on
# every run of the same build, however busy or slow the machine (timings on a
# shared virtual machine move by 20% or more from one run to the next).
#
#   bash bench/core_instructions.sh [rows]     (default 200000; about 5 minutes)
#   ISOMARGIN_BENCH_ONLY='equity|status' bash bench/core_instructions.sh 50000
#   ISOMARGIN_BENCH_BRANCHES=1 bash bench/core_instructions.sh 100000
#
# Loads the book of core_throughput.sh (bench/core_load.sql, seed 0.42), stops
# the server, then runs each query once in a single-user backend under
# valgrind --tool=callgrind.  The instructions of a backend that runs only
# `SELECT 1` (start-up, catalog loading) are subtracted before dividing by the
# row count.  Every backend, that one included, preloads the library
# (shared_preload_libraries): its loading and _PG_init, once a backend, are
# subtracted with the start-up instead of being spread over the rows (about
# 11 a row at 100,000 rows before 2026-12-04).  One core, no JIT, no
# parallel workers.  Instructions are not time (a divide costs more than an
# add), so the timed ratios of core_throughput.sh stay the measure of the
# targets; this is the repeatable figure to tell whether a change to the code
# made a row cheaper.  Each
# query's profile is kept in bench/out/ for callgrind_annotate (where the
# instructions go, by function).  ISOMARGIN_BENCH_BRANCHES=1 adds callgrind's
# branch simulation: two more columns, the conditional and the indirect
# branches a row that its simple predictor mispredicts (a mispredicted branch
# costs a core some 15-20 cycles, so these tell where a timed ratio can exceed
# the instructions' ratio; the predictor is a model, not this CPU's).
set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$BENCH_DIR/../test/lib/cluster.sh"
. "$BENCH_DIR/lib/callgrind.sh"

rows=${1:-200000}
[[ $rows =~ ^[1-9][0-9]*$ ]] || cluster_die "rows must be a positive whole number, not '$rows'"

callgrind_prereqs
# the lock is held to the end: another tree's install must not swap the library under the runs
cluster_lock
cluster_build || cluster_die "build failed"
cluster_start

psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION isomargin" >/dev/null || cluster_die "CREATE EXTENSION failed"
cluster_log "loading $rows positions"
PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -v rows="$rows" -v seed=0.42 -f "$BENCH_DIR/core_load.sql" >/dev/null ||
	cluster_die "loading the book failed"
# the same book with dynamic add-ons, a table of its own (issue 18)
PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -f "$BENCH_DIR/dynamic_load.sql" >/dev/null ||
	cluster_die "loading the dynamic book failed"
bindir=$("$PG_CONFIG" --bindir)
callgrind_stop_server

tiers="{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; \
100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10; \
2000000..10000000 mmr=0.1 max_leverage=5}"
tiers_coin="{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50; \
10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10}"
# name | query; the first two are the start-up and the baseline
T="'$tiers'::isomargin.tiers"
P="size, entry_price, mark_price, margin"
benches=(
	"backend start-up only (subtracted)|SELECT 1"
	"bare scan: sum(size)|SELECT sum(size) FROM positions"
	"liquidation_price: C|SELECT sum(isomargin.liquidation_price(size, entry_price, margin, mmr, contract_size, kind, fee_rate)) FROM positions"
	"liquidation_price: C, rule arguments as constants|SELECT sum(isomargin.liquidation_price(size, entry_price, margin, 0.005, 1, 'linear', 0.0005)) FROM positions"
	"liquidation_price with tiers: C, one schedule|SELECT sum(isomargin.liquidation_price(size => size, entry_price => entry_price, margin => margin, tiers => $T, contract_size => contract_size, kind => kind, fee_rate => fee_rate)) FROM positions"
	"liquidation_price with tiers: C, per kind|SELECT sum(isomargin.liquidation_price(size => size, entry_price => entry_price, margin => margin, tiers => CASE kind WHEN 'linear' THEN '$tiers'::isomargin.tiers ELSE '$tiers_coin'::isomargin.tiers END, contract_size => contract_size, kind => kind, fee_rate => fee_rate)) FROM positions"
	"notional|SELECT sum(isomargin.notional(size, mark_price, contract_size, kind)) FROM positions"
	"unrealized_pnl|SELECT sum(isomargin.unrealized_pnl(size, entry_price, mark_price, contract_size, kind)) FROM positions"
	"equity|SELECT sum(isomargin.equity($P, contract_size, kind)) FROM positions"
	"maintenance_margin|SELECT sum(isomargin.maintenance_margin(size, mark_price, mmr, contract_size, kind, fee_rate)) FROM positions"
	"margin_ratio|SELECT sum(isomargin.margin_ratio($P, mmr, contract_size, kind, fee_rate)) FROM positions"
	"margin_status (count)|SELECT count(isomargin.margin_status($P, mmr, contract_size, kind, fee_rate)) FROM positions"
	"margin_call_price|SELECT sum(isomargin.margin_call_price(size, entry_price, margin, mmr, contract_size, kind, fee_rate)) FROM positions"
	"bankruptcy_price|SELECT sum(isomargin.bankruptcy_price(size, entry_price, margin, contract_size, kind)) FROM positions"
	"maintenance_margin with tiers|SELECT sum(isomargin.maintenance_margin(size, mark_price, $T, contract_size, kind, fee_rate)) FROM positions"
	"margin_ratio with tiers|SELECT sum(isomargin.margin_ratio($P, $T, contract_size, kind, fee_rate)) FROM positions"
	"margin_status with tiers (count)|SELECT count(isomargin.margin_status($P, $T, contract_size, kind, fee_rate)) FROM positions"
	"margin_call_price with tiers|SELECT sum(isomargin.margin_call_price(size, entry_price, margin, $T, contract_size, kind, fee_rate)) FROM positions"
	"assess (one call a row, one field summed)|SELECT sum((isomargin.assess($P, mmr, contract_size, kind, fee_rate)).liquidation_price) FROM positions"
	"effective_leverage|SELECT sum(isomargin.effective_leverage($P, contract_size, kind)) FROM positions"
	"return_on_equity|SELECT sum(isomargin.return_on_equity($P, contract_size, kind)) FROM positions"
	"liquidation_distance|SELECT sum(isomargin.liquidation_distance($P, mmr, contract_size, kind, fee_rate)) FROM positions"
	"liquidation_distance_ratio|SELECT sum(isomargin.liquidation_distance_ratio($P, mmr, contract_size, kind, fee_rate)) FROM positions"
	"liquidation_distance with tiers|SELECT sum(isomargin.liquidation_distance($P, $T, contract_size, kind, fee_rate)) FROM positions"
	"liquidation_distance_ratio with tiers|SELECT sum(isomargin.liquidation_distance_ratio($P, $T, contract_size, kind, fee_rate)) FROM positions"
	"top_up_to_ok|SELECT sum(isomargin.top_up_to_ok($P, mmr, contract_size, kind, fee_rate)) FROM positions"
	"top_up_for_liquidation_price|SELECT sum(isomargin.top_up_for_liquidation_price(size, entry_price, margin, mark_price, mmr, contract_size, kind, fee_rate)) FROM positions"
	"max_removable_margin|SELECT sum(isomargin.max_removable_margin($P, leverage, mmr, contract_size, kind, fee_rate)) FROM positions"
	"max_size|SELECT sum(isomargin.max_size(margin, mark_price, leverage, contract_size, kind, fee_rate)) FROM positions"
	"after_fill, increase, one field|SELECT sum((isomargin.after_fill(size, entry_price, margin, size, mark_price, contract_size, kind, fee_rate)).entry_price) FROM positions"
	"after_fill, full close, one field|SELECT sum((isomargin.after_fill(size, entry_price, margin, -size, mark_price, contract_size, kind, fee_rate)).cash) FROM positions"
	"top_up_to_ok with tiers|SELECT sum(isomargin.top_up_to_ok($P, $T, contract_size, kind, fee_rate)) FROM positions"
	"top_up_for_liquidation_price with tiers|SELECT sum(isomargin.top_up_for_liquidation_price(size, entry_price, margin, mark_price, $T, contract_size, kind, fee_rate)) FROM positions"
	"max_removable_margin with tiers|SELECT sum(isomargin.max_removable_margin($P, leverage, $T, contract_size, kind, fee_rate)) FROM positions"
	"max_size with tiers|SELECT sum(isomargin.max_size(margin, mark_price, leverage, $T, contract_size, kind, fee_rate)) FROM positions"
	"max_leverage_for_size|SELECT sum(isomargin.max_leverage_for_size(size, mark_price, $T, contract_size, kind)) FROM positions"
	"max_notional (the row's leverage)|SELECT sum(isomargin.max_notional($T, leverage, false)) FROM positions"
	"max_leverage (the margin column as the notional)|SELECT sum(isomargin.max_leverage($T, margin, false)) FROM positions"
	"bare scan: count(size) (the baseline of the counts)|SELECT count(size) FROM positions"
	"position_side (count)|SELECT count(isomargin.position_side(size)) FROM positions"
	"assess (CROSS JOIN LATERAL, sum of one column)|SELECT sum(a.liquidation_price) FROM positions CROSS JOIN LATERAL isomargin.assess($P, mmr, contract_size, kind, fee_rate) a"
	"assess, every column, CROSS JOIN LATERAL|SELECT sum(num_nonnulls(a.notional, a.unrealized_pnl, a.equity, a.initial_margin, a.maintenance_margin, a.margin_ratio, a.status, a.liquidation_price, a.margin_call_price, a.bankruptcy_price)) FROM positions p CROSS JOIN LATERAL isomargin.assess($P, mmr, contract_size, kind, fee_rate) a"
	"assess, every column, subquery with OFFSET 0|SELECT sum(num_nonnulls((a).notional, (a).unrealized_pnl, (a).equity, (a).initial_margin, (a).maintenance_margin, (a).margin_ratio, (a).status, (a).liquidation_price, (a).margin_call_price, (a).bankruptcy_price)) FROM (SELECT isomargin.assess($P, mmr, contract_size, kind, fee_rate) AS a FROM positions OFFSET 0) s"
	"assess, four columns, CROSS JOIN LATERAL|SELECT sum(num_nonnulls(a.equity, a.margin_ratio, a.status, a.liquidation_price)) FROM positions p CROSS JOIN LATERAL isomargin.assess($P, mmr, contract_size, kind, fee_rate) a"
	"assess, four columns, subquery with OFFSET 0|SELECT sum(num_nonnulls((a).equity, (a).margin_ratio, (a).status, (a).liquidation_price)) FROM (SELECT isomargin.assess($P, mmr, contract_size, kind, fee_rate) AS a FROM positions OFFSET 0) s"
	"after_fill then assess, CROSS JOIN LATERAL|SELECT sum(num_nonnulls(f.cash, a.status, a.liquidation_price)) FROM positions CROSS JOIN LATERAL isomargin.after_fill(size, entry_price, margin, -size * 0.5, mark_price, contract_size, kind, fee_rate) f CROSS JOIN LATERAL isomargin.assess(f.size, f.entry_price, mark_price, f.margin, mmr, contract_size, kind, fee_rate) a"
	"after_fill then assess, subqueries with OFFSET 0|SELECT sum(num_nonnulls((f).cash, (a).status, (a).liquidation_price)) FROM (SELECT f, isomargin.assess((f).size, (f).entry_price, mark_price, (f).margin, mmr, contract_size, kind, fee_rate) AS a FROM (SELECT isomargin.after_fill(size, entry_price, margin, -size * 0.5, mark_price, contract_size, kind, fee_rate) AS f, mark_price, mmr, contract_size, kind, fee_rate FROM positions OFFSET 0) s1 OFFSET 0) s2"
	"assess with tiers|SELECT sum(a.liquidation_price) FROM positions CROSS JOIN LATERAL isomargin.assess($P, $T, contract_size, kind, fee_rate) a"
	# dynamic requirements (issue 18): dyn_positions, the same book with an addon_rate column
	"dynamic: bare scan of dyn_positions: sum(size)|SELECT sum(size) FROM dyn_positions"
	"dynamic: liquidation_price without the add-on|SELECT sum(isomargin.liquidation_price(size, entry_price, margin, mmr, contract_size, kind, fee_rate)) FROM dyn_positions"
	"dynamic_liquidation_price|SELECT sum(isomargin.dynamic_liquidation_price(size, entry_price, margin, addon_rate, mmr, contract_size, kind, fee_rate)) FROM dyn_positions"
	"dynamic_margin_call_price|SELECT sum(isomargin.dynamic_margin_call_price(size, entry_price, margin, addon_rate, mmr, contract_size, kind, fee_rate)) FROM dyn_positions"
	"dynamic_maintenance_margin|SELECT sum(isomargin.dynamic_maintenance_margin(size, mark_price, addon_rate, mmr, contract_size, kind, fee_rate)) FROM dyn_positions"
	"dynamic_margin_status (count)|SELECT count(isomargin.dynamic_margin_status($P, addon_rate, mmr, contract_size, kind, fee_rate)) FROM dyn_positions"
	"dynamic_liquidation_price with tiers|SELECT sum(isomargin.dynamic_liquidation_price(size, entry_price, margin, addon_rate, $T, contract_size, kind, fee_rate)) FROM dyn_positions"
	# venue conventions (issue 14, doc/venues.md): each against the default's query above
	"convention: liquidation_price, mm_basis entry|SELECT sum(isomargin.liquidation_price(size, entry_price, margin, mmr, contract_size, kind, fee_rate, mm_basis => 'entry')) FROM positions"
	"convention: liquidation_price, fee_basis bankruptcy|SELECT sum(isomargin.liquidation_price(size, entry_price, margin, mmr, contract_size, kind, fee_rate, fee_basis => 'bankruptcy')) FROM positions"
	"convention: liquidation_price, entry and bankruptcy|SELECT sum(isomargin.liquidation_price(size, entry_price, margin, mmr, contract_size, kind, fee_rate, mm_basis => 'entry', fee_basis => 'bankruptcy')) FROM positions"
	"convention: liquidation_price, maintenance_amount|SELECT sum(isomargin.liquidation_price(size, entry_price, margin, mmr, contract_size, kind, fee_rate, maintenance_amount => 0.5)) FROM positions"
	"convention: liquidation_price, mm_basis from a column|SELECT sum(isomargin.liquidation_price(size, entry_price, margin, mmr, contract_size, kind, fee_rate, mm_basis => CASE WHEN size > 0 THEN 'entry'::isomargin.mm_basis ELSE 'mark'::isomargin.mm_basis END)) FROM positions"
	"convention: liquidation_price with tiers, bracket_basis entry|SELECT sum(isomargin.liquidation_price(size => size, entry_price => entry_price, margin => margin, tiers => $T, contract_size => contract_size, kind => kind, fee_rate => fee_rate, bracket_basis => 'entry')) FROM positions"
	"convention: liquidation_price with tiers, tier_basis contracts|SELECT sum(isomargin.liquidation_price(size => size, entry_price => entry_price, margin => margin, tiers => '{amounts=none; ${tiers#\{}'::isomargin.tiers, contract_size => contract_size, kind => kind, fee_rate => fee_rate, tier_basis => 'contracts')) FROM positions"
	"convention: margin_status (count), fee_basis bankruptcy|SELECT count(isomargin.margin_status($P, mmr, contract_size, kind, fee_rate, fee_basis => 'bankruptcy')) FROM positions"
	"convention: okx_margin_ratio|SELECT sum(isomargin.okx_margin_ratio($P, mmr, contract_size, kind, fee_rate)) FROM positions"
	# the statuses against the very aggregate of the bare sum(size) scan: the figure's cost on top of it
	"status filter: sum(size) FILTER (margin_status <> bankrupt)|SELECT sum(size) FILTER (WHERE isomargin.margin_status($P, mmr, contract_size, kind, fee_rate) <> 'bankrupt') FROM positions"
	"status filter: sum(size) FILTER (margin_status with tiers <> bankrupt)|SELECT sum(size) FILTER (WHERE isomargin.margin_status($P, $T, contract_size, kind, fee_rate) <> 'bankrupt') FROM positions"
	"status filter: sum(size) FILTER (dynamic_margin_status <> bankrupt)|SELECT sum(size) FILTER (WHERE isomargin.dynamic_margin_status($P, addon_rate, mmr, contract_size, kind, fee_rate) <> 'bankrupt') FROM dyn_positions"
)
# ISOMARGIN_BENCH_ONLY: a regular expression; only the queries whose name matches run
# (the start-up and the bare scan always do).
names=()
queries=()
for b in "${benches[@]}"; do
	name=${b%%|*}
	if [ ${#names[@]} -ge 2 ] && [ -n "${ISOMARGIN_BENCH_ONLY:-}" ] &&
		! [[ $name =~ $ISOMARGIN_BENCH_ONLY ]]; then
		continue
	fi
	names+=("$name")
	queries+=("${b#*|}")
done

# Instructions of one single-user backend running query $1, its profile kept in $2.
count_instructions()
{
	printf '%s\n' "$1" | callgrind_single postgres "${branch_sim[@]}" -- \
		-c max_parallel_workers_per_gather=0 -c shared_preload_libraries=isomargin || return 1
	cp "$CLUSTER_DIR/callgrind.out" "$2"
}

branch_sim=()
[ "${ISOMARGIN_BENCH_BRANCHES:-0}" = 1 ] && branch_sim=(--branch-sim=yes)

echo "isomargin core instructions: $rows positions (bench/core_load.sql, seed 0.42), callgrind"
echo "command: bash bench/core_instructions.sh $rows"
echo "commit: $(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "$("$bindir/postgres" --version); $(valgrind --version)"
if [ ${#branch_sim[@]} -gt 0 ]; then
	printf '\n%-52s %14s %12s %12s %12s %12s\n' "query" "instructions" "per row" "x bare scan" \
		"cond. miss" "indir. miss"
else
	printf '\n%-52s %14s %12s %12s\n' "query" "instructions" "per row" "x bare scan"
fi
base=
bare=
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$BENCH_DIR/out"
for i in "${!queries[@]}"; do
	summary=$(count_instructions "${queries[$i]}" "$BENCH_DIR/out/callgrind-$stamp-$i.out") ||
		cluster_die "query failed: ${queries[$i]}"
	read -r n _ bcm _ bim <<<"$summary"
	if [ -z "$base" ]; then
		base=$n base_bcm=${bcm:-0} base_bim=${bim:-0}
		printf '%-52s %14s\n' "${names[$i]}" "$n"
		continue
	fi
	per=$(( (n - base) / rows ))
	[ -z "$bare" ] && bare=$per
	printf '%-52s %14s %12s %12s' "${names[$i]}" "$n" "$per" \
		"$(awk -v a="$per" -v b="$bare" 'BEGIN { printf "%.2f", a / b }')"
	[ ${#branch_sim[@]} -gt 0 ] &&
		awk -v c="$((bcm - base_bcm))" -v d="$((bim - base_bim))" -v r="$rows" \
			'BEGIN { printf " %12.2f %12.2f", c / r, d / r }'
	echo
done
echo
echo "profiles: bench/out/callgrind-$stamp-<query number>.out (0 is the start-up);"
echo "by function: callgrind_annotate --inclusive=no bench/out/callgrind-$stamp-2.out"
