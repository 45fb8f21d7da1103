#!/usr/bin/env bash
# A table with isomargin.tiers columns survives pg_dump and restore (plain
# and custom formats: the text form) and a client-side binary COPY into
# another database (the binary form), value for value.
# Run by test/run-tests.sh (PGHOST, PGPORT, PGUSER, PGDATABASE set; the
# extension installed but not created).  Last line: `N passed, N failed`.
set -u -o pipefail

. "$(dirname "$0")/../lib/suite.sh"
WORK=$(mktemp -d /tmp/isomargin-tiers-dump.XXXXXX) || exit 1
SRC=$PGDATABASE
trap 'rm -rf "$WORK"; for db in "${SRC}_plain" "${SRC}_custom" "${SRC}_binary"; do dropdb --if-exists "$db" >/dev/null 2>&1; done' EXIT

contents()
{
	q -d "$1" -c "SELECT symbol, tiers::text, encode(isomargin.tiers_send(tiers), 'hex') FROM instruments ORDER BY symbol"
}

q -d "$SRC" <<'SQL' || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
CREATE EXTENSION isomargin;
CREATE TABLE instruments (symbol text PRIMARY KEY, tiers isomargin.tiers NOT NULL);
INSERT INTO instruments VALUES
    ('LINEAR', '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50;
                 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10;
                 2000000..10000000 mmr=0.1 max_leverage=5}'),
    ('INVERSE', '{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50;
                  10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10}'),
    ('TINY', '{0..0.000000000000000001 mmr=0.000000000000000001 max_leverage=999999999999999999}');
INSERT INTO instruments
SELECT 'SIXTYFOUR', ('{' || string_agg(format('%s..%s mmr=%s max_leverage=%s', i - 1, i, i / 10000.0, 65 - i), '; ' ORDER BY i) || '}')::isomargin.tiers
FROM generate_series(1, 64) i;
SQL
want=$(contents "$SRC")
check "four schedules stored" "$(q -d "$SRC" -c 'SELECT count(*) FROM instruments')" 4

pg_dump -Fp -f "$WORK/plain.sql" "$SRC" && createdb "${SRC}_plain" &&
	q -d "${SRC}_plain" -f "$WORK/plain.sql" >/dev/null
check "plain dump and restore" "$(contents "${SRC}_plain")" "$want"

pg_dump -Fc -f "$WORK/custom.dump" "$SRC" && createdb "${SRC}_custom" &&
	pg_restore --exit-on-error -d "${SRC}_custom" "$WORK/custom.dump"
check "custom dump and pg_restore" "$(contents "${SRC}_custom")" "$want"

createdb "${SRC}_binary" &&
	q -d "${SRC}_binary" -c 'CREATE EXTENSION isomargin' \
		-c 'CREATE TABLE instruments (symbol text PRIMARY KEY, tiers isomargin.tiers NOT NULL)' &&
	q -d "$SRC" -c "\\copy instruments TO '$WORK/instruments.bin' WITH (FORMAT binary)" &&
	q -d "${SRC}_binary" -c "\\copy instruments FROM '$WORK/instruments.bin' WITH (FORMAT binary)"
check "binary COPY into another database" "$(contents "${SRC}_binary")" "$want"

check "restored values equal the originals (=)" \
	"$(q -d "${SRC}_plain" -c "SELECT count(*) FROM instruments WHERE tiers OPERATOR(isomargin.=) tiers::text::isomargin.tiers")" 4

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
