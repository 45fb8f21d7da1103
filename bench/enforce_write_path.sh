#!/usr/bin/env bash
# bench/enforce_write_path.sh: what enforcement adds to the write path (issue 15
# item 3), each figure against a baseline measured in the same run:
#
#   insert   INSERT ... SELECT of N positions into the enforced table, against the
#            same insert into a twin table (same columns, same indexes) whose INSERT
#            computes the prices and status with the SQL figure functions
#   funding  UPDATE of the margin of every position of 50 of the 100 instruments
#            (N / 2 rows), against the same update of the twin computing its figures
#   marks    pgbench, 4 clients, -M prepared, synchronous_commit off: single-row
#            updates of a random instrument's mark by at most 0.05% (they cross
#            nothing), against the same updates of a marks table without triggers
#   verify   isomargin.verify over 1,000,000 enforced positions: consistent, then
#            with 1,000 rows written as a replica, repaired
#
#   bash bench/enforce_write_path.sh [--quick] [--rows N] [--rounds R] [--seconds S]
#
#   --quick      N = 50,000, 2 rounds, 5 s of pgbench, verify over 200,000
#   --rows N     positions inserted per round (default 200,000)
#   --rounds R   timed rounds of each statement, baseline and enforced alternating
#                (default 3; medians are reported)
#   --seconds S  length of each pgbench run (default 15; two runs of each table)
#
# Output is kept in bench/out/.  Ratios are time enforced / time twin (lower is
# better) and, for marks, throughput enforced / throughput plain (higher is better).
set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$BENCH_DIR/../test/lib/cluster.sh"

rows=200000
rounds=3
seconds=15
verify_rows=1000000
quick=

usage()
{
	sed -n '16,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
		--quick) rows=50000; rounds=2; seconds=5; verify_rows=200000; quick=1 ;;
		--rows) [ $# -ge 2 ] || usage; rows=$2; shift ;;
		--rounds) [ $# -ge 2 ] || usage; rounds=$2; shift ;;
		--seconds) [ $# -ge 2 ] || usage; seconds=$2; shift ;;
		-h|--help) usage ;;
		*) echo "unknown argument: $1" >&2; usage ;;
	esac
	shift
done
for v in "$rows" "$rounds" "$seconds"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || cluster_die "arguments must be positive whole numbers, not '$v'"
done

cluster_prereqs </dev/null
cluster_lock
cluster_build || cluster_die "build failed"
cluster_start -c synchronous_commit=off -c shared_buffers=1GB -c max_wal_size=8GB \
	-c checkpoint_timeout=30min -c max_parallel_workers_per_gather=0 -c jit=off

export PGOPTIONS='-c client_min_messages=warning'
mkdir -p "$BENCH_DIR/out"
out="$BENCH_DIR/out/enforce_write_path-$(date -u +%Y%m%dT%H%M%SZ).txt"
args="${quick:+--quick }--rows $rows --rounds $rounds --seconds $seconds"

psql_run()
{
	psql -X -q -v ON_ERROR_STOP=1 -d bench "$@"
}

# ms of each statement of stdin, in order (psql \timing)
timed()
{
	{ echo '\timing on'; cat; } | psql_run | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}

median()
{
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

{
	echo "isomargin enforcement: the write path"
	echo "command: bash bench/enforce_write_path.sh $args"
	echo "commit: $(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$BENCH_DIR/.." diff --quiet HEAD -- src install 2>/dev/null || echo ' (with uncommitted changes to src/ or install/)')"
	echo "machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
	psql -X -At -c "SELECT version()"
	echo "settings: $(psql -X -At -c "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'shared_buffers', 'jit')")"
	echo "load average at start: $(cut -d ' ' -f 1-3 /proc/loadavg)"
} | tee "$out"

psql -X -q -c "CREATE DATABASE bench" && psql_run -c "CREATE EXTENSION isomargin" || cluster_die "cannot create the database"
psql_run -f "$BENCH_DIR/enforce_write_book.sql" >/dev/null || cluster_die "loading the book failed"

twin_insert="INSERT INTO twin (id, symbol, size, entry_price, margin, liquidation_price, margin_call_price,
                   bankruptcy_price, status, status_changed_at)
SELECT n.id, n.symbol, n.size, n.entry_price, n.margin,
       isomargin.liquidation_price(n.size, n.entry_price, n.margin, i.mmr, 1, 'linear', i.fee_rate),
       isomargin.margin_call_price(n.size, n.entry_price, n.margin, i.mmr, 1, 'linear', i.fee_rate, 0.8),
       isomargin.bankruptcy_price(n.size, n.entry_price, n.margin, 1, 'linear'),
       isomargin.margin_status(n.size, n.entry_price, m.mark_price, n.margin, i.mmr, 1, 'linear', i.fee_rate, 0.8),
       now()
  FROM new_positions n JOIN instruments i USING (symbol) JOIN marks m USING (symbol);"
enforced_insert="INSERT INTO positions (id, symbol, size, entry_price, margin)
SELECT n.id, n.symbol, n.size, n.entry_price, n.margin FROM new_positions n;"
twin_funding="UPDATE twin t SET margin = t.margin + 1,
       liquidation_price = isomargin.liquidation_price(t.size, t.entry_price, t.margin + 1, i.mmr, 1, 'linear', i.fee_rate),
       margin_call_price = isomargin.margin_call_price(t.size, t.entry_price, t.margin + 1, i.mmr, 1, 'linear', i.fee_rate, 0.8),
       bankruptcy_price = isomargin.bankruptcy_price(t.size, t.entry_price, t.margin + 1, 1, 'linear'),
       (status, status_changed_at) = (SELECT s.st, CASE WHEN s.st IS DISTINCT FROM t.status THEN now() ELSE t.status_changed_at END
                                        FROM (SELECT isomargin.margin_status(t.size, t.entry_price, m.mark_price, t.margin + 1,
                                                     i.mmr, 1, 'linear', i.fee_rate, 0.8) AS st) s)
  FROM instruments i JOIN marks m USING (symbol)
 WHERE i.symbol = t.symbol AND t.symbol <= 'S050';"
enforced_funding="UPDATE positions SET margin = margin + 1 WHERE symbol <= 'S050';"

# insert: each round empties both tables, then inserts into one and the other
# (the order alternates).
declare -a t_ins e_ins t_fund e_fund
for ((r = 0; r < rounds; r++)); do
	cluster_log "insert round $((r + 1)) of $rounds: $rows positions"
	psql_run -c "TRUNCATE positions, twin" -c "TRUNCATE isomargin.events" -c "VACUUM ANALYZE positions, twin" >/dev/null
	set_rows="SET bench.first = 1; SET bench.last = $rows;"
	if ((r % 2 == 0)); then
		mapfile -t t < <(printf '%s\n%s\n%s\n' "$set_rows" "$twin_insert" "$enforced_insert" | timed)
		t_ins+=("${t[2]}"); e_ins+=("${t[3]}")
	else
		mapfile -t t < <(printf '%s\n%s\n%s\n' "$set_rows" "$enforced_insert" "$twin_insert" | timed)
		e_ins+=("${t[2]}"); t_ins+=("${t[3]}")
	fi
done
same=$(psql_run -At -c "SELECT count(*) FROM positions p JOIN twin t USING (id)
                         WHERE (p.liquidation_price, p.margin_call_price, p.bankruptcy_price, p.status)
                               IS NOT DISTINCT FROM (t.liquidation_price, t.margin_call_price, t.bankruptcy_price, t.status)")
[ "$same" -eq "$rows" ] || echo "FAIL: $same of $rows positions have the twin's figures" | tee -a "$out"

for ((r = 0; r < rounds; r++)); do
	cluster_log "funding round $((r + 1)) of $rounds"
	psql_run -c "VACUUM ANALYZE positions, twin" >/dev/null
	if ((r % 2 == 0)); then
		mapfile -t t < <(printf '%s\n%s\n' "$twin_funding" "$enforced_funding" | timed)
		t_fund+=("${t[0]}"); e_fund+=("${t[1]}")
	else
		mapfile -t t < <(printf '%s\n%s\n' "$enforced_funding" "$twin_funding" | timed)
		e_fund+=("${t[0]}"); t_fund+=("${t[1]}")
	fi
done
same=$(psql_run -At -c "SELECT count(*) FROM positions p JOIN twin t USING (id)
                         WHERE (p.margin, p.liquidation_price, p.margin_call_price, p.bankruptcy_price, p.status)
                               IS NOT DISTINCT FROM (t.margin, t.liquidation_price, t.margin_call_price, t.bankruptcy_price, t.status)")
[ "$same" -eq "$rows" ] || echo "FAIL: after funding, $same of $rows positions have the twin's figures" | tee -a "$out"

ti=$(printf '%s\n' "${t_ins[@]}" | median); ei=$(printf '%s\n' "${e_ins[@]}" | median)
tf=$(printf '%s\n' "${t_fund[@]}" | median); ef=$(printf '%s\n' "${e_fund[@]}" | median)
{
	echo
	echo "insert of $rows positions (ms; rounds: twin ${t_ins[*]}, enforced ${e_ins[*]})"
	printf '  twin %10.1f   enforced %10.1f   enforced / twin %s\n' "$ti" "$ei" "$(ratio "$ei" "$ti")"
	echo "funding update of $((rows / 2)) margins (ms; rounds: twin ${t_fund[*]}, enforced ${e_fund[*]})"
	printf '  twin %10.1f   enforced %10.1f   enforced / twin %s\n' "$tf" "$ef" "$(ratio "$ef" "$tf")"
} | tee -a "$out"

# marks: pgbench on each table in turn, twice.
psql_run -c "VACUUM ANALYZE" >/dev/null
script_dir=$(mktemp -d)
for t in marks marks_plain; do
	cat >"$script_dir/$t.sql" <<-SQL
		\set s random(1, 100)
		\set d random(-50, 50)
		UPDATE $t SET mark_price = 1000 * :s * (1 + :d / 100000.0) WHERE symbol = 'S' || lpad(:s::text, 3, '0');
	SQL
done
chmod -R a+rX "$script_dir"
tps()
{
	pgbench -n -M prepared -f "$script_dir/$1.sql" -c 4 -j 2 -T "$seconds" bench 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
declare -a tp te
events_before=$(psql_run -At -c "SELECT count(*) FROM isomargin.events")
for r in 1 2; do
	cluster_log "pgbench round $r of 2, $seconds s per table"
	tp+=("$(tps marks_plain)")
	te+=("$(tps marks)")
done
events_after=$(psql_run -At -c "SELECT count(*) FROM isomargin.events")
rm -rf "$script_dir"
{
	echo "single-row mark updates crossing nothing (pgbench, 4 clients, $seconds s, -M prepared; $((events_after - events_before)) events)"
	printf '  plain %10.1f/s (%s)   enforced %10.1f/s (%s)   enforced / plain %s\n' \
		"$(printf '%s\n' "${tp[@]}" | median)" "${tp[*]}" "$(printf '%s\n' "${te[@]}" | median)" "${te[*]}" \
		"$(ratio "$(printf '%s\n' "${te[@]}" | median)" "$(printf '%s\n' "${tp[@]}" | median)")"
} | tee -a "$out"

# verify over verify_rows positions (skipped on a tree without it).
if [ "$(psql_run -At -c "SELECT to_regprocedure('isomargin.verify(regclass, boolean)') IS NULL")" = t ]; then
	cluster_log "no isomargin.verify here: output kept in ${out#"$BENCH_DIR/../"}"
	exit 0
fi
cluster_log "verify: loading $verify_rows positions"
psql_run -c "TRUNCATE positions, twin" -c "TRUNCATE isomargin.events" >/dev/null
psql_run -c "SET bench.first = 1" -c "SET bench.last = $verify_rows" -c "$enforced_insert" -c "VACUUM ANALYZE positions" >/dev/null
mapfile -t t < <(timed <<-SQL
	SELECT count(*) FROM isomargin.verify('positions');
	SELECT count(*) FROM isomargin.verify('positions');
	SET session_replication_role = replica;
	UPDATE positions SET margin = margin + 1 WHERE id % 1000 = 0;
	RESET session_replication_role;
	SELECT count(*) FILTER (WHERE repaired) FROM isomargin.verify('positions', repair => true);
	SELECT count(*) FROM isomargin.verify('positions');
SQL
)
left=$(psql_run -At -c "SELECT count(*) FROM isomargin.verify('positions')")
{
	echo "verify over $verify_rows positions (ms): consistent ${t[0]} and ${t[1]};" \
		"with $((verify_rows / 1000)) stale rows, repair ${t[5]}; differing after the repair: $left"
} | tee -a "$out"
cluster_log "output kept in ${out#"$BENCH_DIR/../"}"
