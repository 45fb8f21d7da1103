#!/usr/bin/env bash
# demo/demo.sh: isomargin's demo proper, against a running PostgreSQL 15 (PGHOST, PGPORT,
# PGUSER, PGDATABASE) where the extension is installed.  test/run-demo.sh brings up a
# throwaway cluster and runs this; the demo test (test/suites/demo.sh) runs it small.
#
#   demo/demo.sh [--positions N] [--seed S] [--marks FILE.csv] [--out DIR]
#
#   --positions N   positions in the book (default 200000)
#   --seed S        seed of the book and of the mark-price path (default 42)
#   --marks FILE    replay this path instead: a CSV with a header and columns
#                   step,symbol,mark_price; steps from 1 (a step 0 sets the market the book
#                   is opened around); a symbol missing from a step keeps its mark
#   --out DIR       where the pictures and data go (default demo-out)
#   --flat          give each instrument its first bracket's rate as a flat mmr instead of
#                   its bracket schedule (isomargin.tiers)
#   --engine        run the liquidation engine (doc/liquidation.md) during the replay: after
#                   each step a worker liquidates what is flagged, by each instrument's policy
#
# Steps: the exchange schema (demo/schema.sql), the mark path (demo/path.sql or the CSV),
# the book (demo/load.sql, in chunks), the liquidation ladder picture (demo/plot.gnuplot),
# the replay (one mark update per step, counted as it goes), the report (demo/report.sql).
set -u -o pipefail

DEMO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
POSITIONS=200000
SEED=42
MARKS_CSV=
OUT=demo-out
MAIN=BTCUSDT
FLAT=
ENGINE=

die()
{
	echo "error: $*" >&2
	exit 1
}

usage()
{
	sed -n '6,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--positions) POSITIONS=${2:-}; shift 2 || usage 2 ;;
	--positions=*) POSITIONS=${1#*=}; shift ;;
	--seed) SEED=${2:-}; shift 2 || usage 2 ;;
	--seed=*) SEED=${1#*=}; shift ;;
	--marks) MARKS_CSV=${2:-}; shift 2 || usage 2 ;;
	--marks=*) MARKS_CSV=${1#*=}; shift ;;
	--out) OUT=${2:-}; shift 2 || usage 2 ;;
	--out=*) OUT=${1#*=}; shift ;;
	--flat) FLAT=1; shift ;;
	--engine) ENGINE=1; shift ;;
	-h | --help) usage 0 ;;
	*) echo "unknown argument: $1" >&2; usage 2 ;;
	esac
done
[[ "$POSITIONS" =~ ^[0-9]+$ ]] && [ "$POSITIONS" -ge 100 ] && [ "$POSITIONS" -le 20000000 ] ||
	die "--positions must be a whole number from 100 to 20000000"
[[ "$SEED" =~ ^-?[0-9]+$ ]] && [ ${#SEED} -le 18 ] || die "--seed must be a whole number"
if [ -n "$MARKS_CSV" ]; then
	[ -r "$MARKS_CSV" ] || die "cannot read $MARKS_CSV"
	MARKS_CSV=$(cd "$(dirname "$MARKS_CSV")" && pwd)/$(basename "$MARKS_CSV")
fi
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)

# Plans over the whole book are costly enough for JIT, whose compile time would be most
# of a step; nothing here runs long enough to win it back.
export PGOPTIONS="${PGOPTIONS:-} -c jit=off -c client_min_messages=warning"
q()
{
	psql -X -q -v ON_ERROR_STOP=1 -P pager=off "$@"
}
qv()
{
	q -At "$@"
}

T_START=$(date +%s%N)
ms_since()
{
	echo $((($(date +%s%N) - $1) / 1000000))
}
secs()
{
	printf '%d.%01d s' $(($1 / 1000)) $((($1 % 1000) / 100))
}
say()
{
	printf '\n== %s\n' "$*"
}

# ---------------------------------------------------------------- the exchange
say "exchange schema"
q -c "CREATE EXTENSION IF NOT EXISTS isomargin" || die "cannot create the extension"
HAVE_TIERS=$(qv -c "SELECT EXISTS (SELECT FROM pg_catalog.pg_proc p
	WHERE p.pronamespace = 'isomargin'::regnamespace AND p.proname = 'liquidation_price'
	  AND to_regtype('isomargin.tiers') = ANY (p.proargtypes::oid[]))")
HAVE_ENFORCE=$(qv -c "SELECT to_regproc('isomargin.enforce') IS NOT NULL")
HAVE_REPORTS=$(qv -c "SELECT to_regproc('isomargin.liquidation_ladder') IS NOT NULL")
[ "$HAVE_TIERS" = t ] && [ -z "$FLAT" ] && HAVE_TIERS=true || HAVE_TIERS=false
[ "$HAVE_ENFORCE" = t ] && HAVE_ENFORCE=true || HAVE_ENFORCE=false
[ "$HAVE_REPORTS" = t ] && HAVE_REPORTS=true || HAVE_REPORTS=false
q -v have_tiers="$HAVE_TIERS" -v have_enforce="$HAVE_ENFORCE" -f "$DEMO_DIR/schema.sql" ||
	die "demo/schema.sql failed"
if $HAVE_TIERS; then
	echo "4 perpetuals (BTCUSDT, ETHUSDT, SOLUSDT linear; BTCUSD inverse, 100 USD contracts), bracket schedules as isomargin.tiers"
else
	echo "4 perpetuals (BTCUSDT, ETHUSDT, SOLUSDT linear; BTCUSD inverse, 100 USD contracts)"
	if [ -n "$FLAT" ]; then
		echo "--flat: each instrument uses its first bracket's rate as a flat mmr"
	else
		echo "SKIPPED: tier-aware figures are not in this build; each instrument uses its first bracket's rate as a flat mmr"
	fi
fi
if $HAVE_ENFORCE; then
	echo "positions wired with isomargin.enforce(exchange.positions, exchange.marks, exchange.instruments)"
else
	echo "SKIPPED: isomargin.enforce is not in this build: nothing flags positions as marks move;"
	echo "         the replay still moves the marks and counts what the exact check says at each step"
fi

# ---------------------------------------------------------------- the mark path
if [ -n "$MARKS_CSV" ]; then
	say "mark path from $MARKS_CSV"
	q <<-SQL || die "cannot read $MARKS_CSV (header, then step,symbol,mark_price)"
	CREATE TEMP TABLE csv (step integer, symbol text, mark_price numeric);
	\copy csv FROM '$MARKS_CSV' WITH (FORMAT csv, HEADER true)
	DO \$\$
	DECLARE bad text;
	BEGIN
	    SELECT format('line with step %s, symbol %s, mark_price %s', step, symbol, mark_price)
	      INTO bad FROM csv
	     WHERE step IS NULL OR step < 0 OR mark_price IS NULL OR mark_price <= 0
	        OR mark_price = 'NaN' OR mark_price = 'Infinity'
	        OR symbol NOT IN (SELECT symbol FROM exchange.instruments) LIMIT 1;
	    IF bad IS NOT NULL THEN
	        RAISE EXCEPTION 'bad %: steps are whole numbers >= 0, symbols one of BTCUSDT, ETHUSDT, SOLUSDT, BTCUSD, prices > 0', bad;
	    END IF;
	    IF NOT EXISTS (SELECT FROM csv WHERE step > 0) THEN
	        RAISE EXCEPTION 'no step after 0 in the file';
	    END IF;
	END
	\$\$;
	UPDATE exchange.marks m SET mark_price = c.mark_price FROM csv c
	 WHERE c.step = 0 AND c.symbol = m.symbol;
	INSERT INTO demo.mark_path SELECT step, symbol, mark_price FROM csv WHERE step > 0;
	SQL
else
	say "mark path from seed $SEED"
	q -v seed="$SEED" -f "$DEMO_DIR/path.sql" || die "demo/path.sql failed"
fi
q -c "INSERT INTO demo.mark_path SELECT 0, symbol, mark_price FROM exchange.marks" || die "cannot record step 0"
STEPS=$(qv -c "SELECT max(step) FROM demo.mark_path")
qv -F ' ' -c "SELECT 'steps 1..' || max(step) || ': $MAIN from ' || (SELECT mark_price FROM exchange.marks WHERE symbol = '$MAIN')
	|| ', low ' || min(mark_price) FILTER (WHERE symbol = '$MAIN')
	|| ', high ' || max(mark_price) FILTER (WHERE symbol = '$MAIN')
	|| ', end ' || (SELECT mark_price FROM demo.mark_path WHERE symbol = '$MAIN' ORDER BY step DESC LIMIT 1)
	FROM demo.mark_path"

# ---------------------------------------------------------------- the book
say "loading $POSITIONS positions"
WHALES=$((POSITIONS / 10000 > 10 ? POSITIONS / 10000 : 10))
CHUNK=$(((POSITIONS + 9) / 10))
[ "$CHUNK" -lt 20000 ] && CHUNK=20000
t0=$(date +%s%N)
lo=1
while [ "$lo" -le "$POSITIONS" ]; do
	hi=$((lo + CHUNK - 1))
	[ "$hi" -gt "$POSITIONS" ] && hi=$POSITIONS
	q -v seed="$SEED" -v lo="$lo" -v hi="$hi" -v total="$POSITIONS" -v whales="$WHALES" \
		-f "$DEMO_DIR/load.sql" || die "demo/load.sql failed"
	el=$(ms_since "$t0")
	printf '  %9d / %d positions  %s  (%d per second)\n' "$hi" "$POSITIONS" "$(secs "$el")" \
		$((hi * 1000 / (el > 0 ? el : 1)))
	lo=$((hi + 1))
done
q -c "ANALYZE exchange.positions" || die "ANALYZE failed"
q -F ' | ' -c "SELECT p.symbol, count(*) AS positions,
		count(*) FILTER (WHERE p.size > 0) AS longs, count(*) FILTER (WHERE p.size < 0) AS shorts,
		round(avg(p.leverage), 1) AS avg_leverage, max(p.leverage) AS max_leverage,
		round(sum(isomargin.notional(abs(p.size), m.mark_price, i.contract_size, i.kind))) AS open_notional,
		i.settle
	FROM exchange.positions p JOIN exchange.instruments i USING (symbol) JOIN exchange.marks m USING (symbol)
	GROUP BY p.symbol, i.settle ORDER BY open_notional DESC" | sed 's/^/  /'

# ---------------------------------------------------------------- the picture
if $HAVE_REPORTS; then
	say "liquidation ladder of $MAIN at the opening mark"
	q <<-SQL || die "the ladder query failed"
	\copy (SELECT (price_low + price_high) / 2, CASE WHEN side = 'long' THEN notional / 1e6 ELSE 0 END, CASE WHEN side = 'short' THEN notional / 1e6 ELSE 0 END, mark_price FROM isomargin.liquidation_ladder('exchange.positions', 'exchange.marks', 'exchange.instruments', bucket_width => 0.0025, buckets => 80) WHERE symbol = '$MAIN' ORDER BY bucket) TO '$OUT/ladder.dat'
	SQL
	MARK0=$(qv -c "SELECT mark_price FROM exchange.marks WHERE symbol = '$MAIN'")
	LOW=$(qv -c "SELECT min(mark_price) FROM demo.mark_path WHERE symbol = '$MAIN'")
	if command -v gnuplot >/dev/null 2>&1; then
		gnuplot -e "datafile='$OUT/ladder.dat'; outfile='$OUT/ladder.png'; mark=$MARK0; low=${LOW:-0}; symbol='$MAIN'; npos='$POSITIONS'" \
			"$DEMO_DIR/plot.gnuplot" || die "gnuplot failed"
		echo "wrote $OUT/ladder.png"
	else
		echo "SKIPPED: gnuplot is not installed (apt-get install gnuplot-nox); the data is in $OUT/ladder.dat"
	fi
	qv -F ' ' -c "SELECT format('  largest clusters: %s', string_agg(format('%s M USDT of %s at %s-%s', round(notional / 1e6, 1), side, round(price_low), round(price_high)), '; ' ORDER BY notional DESC))
		FROM (SELECT * FROM isomargin.liquidation_ladder('exchange.positions', 'exchange.marks', 'exchange.instruments', bucket_width => 0.0025, buckets => 80)
		       WHERE symbol = '$MAIN' ORDER BY notional DESC LIMIT 3) c"
else
	say "SKIPPED: the liquidation ladder (isomargin.liquidation_ladder is not in this build)"
fi

# ---------------------------------------------------------------- the engine
HAVE_ENGINE=false
if [ -n "$ENGINE" ]; then
	[ "$(qv -c "SELECT to_regproc('isomargin.liquidate_next') IS NOT NULL")" = t ] && $HAVE_ENFORCE ||
		die "--engine: the liquidation engine is not in this build"
	HAVE_ENGINE=true
	say "liquidation engine"
	q -f "$DEMO_DIR/engine.sql" || die "demo/engine.sql failed"
fi

# ---------------------------------------------------------------- the replay
say "replay: $STEPS mark updates, all instruments in one statement per step"
if $HAVE_TIERS; then RISK='tiers => i.tiers'; else RISK='mmr => i.mmr'; fi
# The stand-in liquidation worker claims up to this many events after each step.
export WORKER_BATCH=$((POSITIONS / 40 > 1000 ? POSITIONS / 40 : 1000))
"$DEMO_DIR/replay.sh" "$STEPS" "$MAIN" "$HAVE_ENFORCE" "$RISK" "$HAVE_ENGINE" || die "the replay failed"

# ---------------------------------------------------------------- the report
say "report"
q -v main="$MAIN" -v have_enforce="$HAVE_ENFORCE" -v have_reports="$HAVE_REPORTS" -v risk="$RISK" \
	-v have_engine="$HAVE_ENGINE" \
	-f "$DEMO_DIR/report.sql" || die "demo/report.sql failed"

# ------------------------------------------------ dynamic requirements (issue 18)
if $HAVE_TIERS && [ "$(qv -c "SELECT to_regproc('isomargin.backtest') IS NOT NULL")" = t ]; then
	say "backtest: the crash with and without the dynamic add-ons"
	(cd "$OUT" && q -v main="$MAIN" -f "$DEMO_DIR/dynamic.sql") || die "demo/dynamic.sql failed"
	if command -v gnuplot >/dev/null 2>&1; then
		gnuplot -e "datafile='$OUT/dynamic.dat'; outfile='$OUT/dynamic.png'; symbol='$MAIN'" \
			"$DEMO_DIR/dynamic.gnuplot" || die "gnuplot failed"
		echo "wrote $OUT/dynamic.png"
	fi
fi

echo
echo "demo finished in $(secs "$(ms_since "$T_START")")"
[ -s "$OUT/ladder.png" ] && echo "picture: $OUT/ladder.png (liquidation ladder of $MAIN before the replay)"
exit 0
