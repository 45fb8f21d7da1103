#!/usr/bin/env bash
# test/suites/demo.sh: runs the demo (demo/demo.sh) small, twice, against the test
# cluster, and checks its outcome:
#   - the flags enforcement left, and the counts the demo printed at every step, against
#     an independent recomputation in plain SQL (test/suites/demo_check.sql);
#   - the picture: a non-empty PNG file (magic bytes);
#   - that the check can fail: one flag quietly undone (triggers bypassed) is caught.
# Run 1 replays the seeded path with tier schedules; run 2 a hand-written CSV path (a
# symbol missing from some steps keeps its mark) with flat rates.
# Called by test/run-tests.sh (PGHOST etc. set, PGDATABASE a fresh database).
set -u -o pipefail
cd "${ISOMARGIN_ROOT:-$(dirname "$0")/../..}" || exit 1

PASSED=0
FAILED=0
pass()
{
	PASSED=$((PASSED + 1))
	echo "ok - $*"
}
fail()
{
	FAILED=$((FAILED + 1))
	echo "not ok - $*"
}
finish()
{
	echo "demo: $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit $?
}

WORK=$(mktemp -d /tmp/isomargin-demo-test.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT

# The picture needs gnuplot (test/run-demo.sh installs it; the test runner does not).
if ! command -v gnuplot >/dev/null 2>&1; then
	. test/lib/cluster.sh
	CLUSTER_PACKAGES="gnuplot-nox fonts-dejavu-core"
	(cluster_prereqs) || echo "could not install gnuplot-nox"
fi

# Reads demo_check.sql's "ok|name|detail" lines into test results.
check_run()
{
	local label=$1 line verdict name detail
	if ! psql -X -q -v ON_ERROR_STOP=1 -f test/suites/demo_check.sql >"$WORK/check.out" 2>&1; then
		cat "$WORK/check.out"
		fail "$label: demo_check.sql ran to the end"
		return
	fi
	while IFS='|' read -r verdict name detail; do
		[ -n "$verdict" ] || continue
		if [ "$verdict" = ok ]; then
			pass "$label: $name ($detail)"
		else
			fail "$label: $name ($detail)"
		fi
	done <"$WORK/check.out"
}

png_check()
{
	local label=$1 file=$2 magic
	if [ -s "$file" ]; then
		magic=$(head -c 8 "$file" | od -An -tx1 | tr -d ' \n')
		if [ "$magic" = 89504e470d0a1a0a ]; then
			pass "$label: $file is a PNG ($(wc -c <"$file") bytes)"
			return
		fi
	fi
	fail "$label: $file is a non-empty PNG"
}

# ---------------------------------------------------------------- run 1: seeded path, tiers
if demo/demo.sh --positions 5000 --seed 7 --out "$WORK/seeded" >"$WORK/seeded.log" 2>&1; then
	pass "seeded run: demo/demo.sh --positions 5000 --seed 7 exits 0"
	sed 's/^/    /' "$WORK/seeded.log" | sed -n '/== replay/,/== report/p'
	check_run "seeded run"
	png_check "seeded run" "$WORK/seeded/ladder.png"
	grep -q "^picture: $WORK/seeded/ladder.png" "$WORK/seeded.log" &&
		pass "seeded run: the demo says where it wrote the picture" ||
		fail "seeded run: the demo says where it wrote the picture"

	# Negative control: undo one flag behind enforcement's back; the check must see it.
	psql -X -q -v ON_ERROR_STOP=1 >"$WORK/planted.out" 2>&1 <<-'SQL'
	BEGIN;
	SET LOCAL session_replication_role = replica;
	UPDATE exchange.positions SET status = 'ok'
	 WHERE id = (SELECT min(id) FROM exchange.positions WHERE status = 'liquidate');
	\i test/suites/demo_check.sql
	ROLLBACK;
	SQL
	if grep -q '^not ok|positions flagged liquidate or bankrupt are exactly' "$WORK/planted.out" &&
		grep -q '1 differ' "$WORK/planted.out"; then
		pass "negative control: a flag undone behind enforcement's back is reported (1 differs)"
	else
		cat "$WORK/planted.out"
		fail "negative control: a flag undone behind enforcement's back is reported"
	fi
else
	cat "$WORK/seeded.log"
	fail "seeded run: demo/demo.sh --positions 5000 --seed 7 exits 0"
fi

# ---------------------------------------------------------------- run 2: CSV path, flat rates
# The liquidation engine during the replay: every ledger row recomputed (demo_engine_check.sql).
if demo/demo.sh --positions 3000 --seed 7 --engine --out "$WORK/engine" >"$WORK/engine.log" 2>&1; then
	pass "engine run: demo/demo.sh --positions 3000 --seed 7 --engine exits 0"
	sed 's/^/    /' "$WORK/engine.log" | sed -n '/== liquidation engine/,$p'
	if psql -X -q -v ON_ERROR_STOP=1 -f test/suites/demo_engine_check.sql >"$WORK/engine-check.out" 2>&1; then
		while IFS='|' read -r verdict name detail; do
			[ -n "$verdict" ] || continue
			if [ "$verdict" = ok ]; then pass "engine run: $name ($detail)"; else fail "engine run: $name ($detail)"; fi
		done <"$WORK/engine-check.out"
	else
		cat "$WORK/engine-check.out"
		fail "engine run: demo_engine_check.sql ran to the end"
	fi
	# Negative control: one ledger amount changed behind the append-only trigger's back.
	psql -X -q -v ON_ERROR_STOP=1 >"$WORK/engine-planted.out" 2>&1 <<-'SQL'
	BEGIN;
	SET LOCAL session_replication_role = replica;
	UPDATE isomargin.insurance_ledger SET amount = amount + 0.01
	 WHERE id = (SELECT max(id) FROM isomargin.insurance_ledger WHERE entry = 'liquidation');
	\i test/suites/demo_engine_check.sql
	ROLLBACK;
	SQL
	if grep -q '^not ok|every ledger row equals its recomputation.*1 of' "$WORK/engine-planted.out" &&
		grep -q '^not ok|every fund' "$WORK/engine-planted.out"; then
		pass "negative control: a ledger amount changed behind the engine's back is reported (row and fund)"
	else
		cat "$WORK/engine-planted.out"
		fail "negative control: a ledger amount changed behind the engine's back is reported"
	fi
else
	cat "$WORK/engine.log"
	fail "engine run: demo/demo.sh --positions 3000 --seed 7 --engine exits 0"
fi

cat >"$WORK/path.csv" <<-'CSV'
	step,symbol,mark_price
	0,BTCUSDT,60000
	0,ETHUSDT,3000
	0,SOLUSDT,150
	0,BTCUSD,60000
	1,BTCUSDT,59700
	1,ETHUSDT,2990
	1,SOLUSDT,149.5
	1,BTCUSD,59690
	2,BTCUSDT,56500
	2,ETHUSDT,2800
	2,BTCUSD,56400
	3,BTCUSDT,52800.5
	3,ETHUSDT,2580.25
	3,SOLUSDT,128.05
	3,BTCUSD,52700
	4,BTCUSDT,55000
	4,SOLUSDT,136
	5,BTCUSDT,57000.1
	5,ETHUSDT,2850
	5,SOLUSDT,141
	5,BTCUSD,57100
	6,BTCUSDT,64000
	6,ETHUSDT,3200
	6,SOLUSDT,160
	6,BTCUSD,64100
CSV
if demo/demo.sh --positions 3000 --seed 11 --marks "$WORK/path.csv" --flat --out "$WORK/csv" \
	>"$WORK/csv.log" 2>&1; then
	pass "CSV run: demo/demo.sh --marks path.csv --flat exits 0"
	grep -q "steps 1..6: BTCUSDT from 60000, low 52800.5, high 64000, end 64000" "$WORK/csv.log" &&
		pass "CSV run: the path is the file's (step 0 sets the market)" ||
		fail "CSV run: the path is the file's (step 0 sets the market)"
	check_run "CSV run"
	png_check "CSV run" "$WORK/csv/ladder.png"
else
	cat "$WORK/csv.log"
	fail "CSV run: demo/demo.sh --marks path.csv --flat exits 0"
fi

# A bad CSV is refused with a message, before anything is loaded.
printf 'step,symbol,mark_price\n1,XRPUSDT,0.5\n' >"$WORK/bad.csv"
if demo/demo.sh --positions 1000 --marks "$WORK/bad.csv" --out "$WORK/bad" >"$WORK/bad.log" 2>&1; then
	fail "a CSV naming an unknown symbol is refused"
elif grep -q "symbols one of BTCUSDT" "$WORK/bad.log" && ! grep -q "loading" "$WORK/bad.log"; then
	pass "a CSV naming an unknown symbol is refused before the book is loaded"
else
	cat "$WORK/bad.log"
	fail "a CSV naming an unknown symbol is refused before the book is loaded"
fi

finish
