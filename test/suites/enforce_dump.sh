#!/usr/bin/env bash
# An enforced book survives pg_dump and restore (plain and custom formats):
# the attachment's catalog row, the events and their sequence, the state
# table's marks, the triggers and indexes come back, and enforcement carries
# on in the restored database (a mark update flags, a new position is
# checked, event ids continue, unenforce cleans up); so does a book whose
# tables were renamed and moved to another schema.
# Run by test/run-tests.sh (PGHOST, PGPORT, PGUSER, PGDATABASE set; the
# extension installed but not created).  Last line: `N passed, N failed`.
set -u -o pipefail

. "$(dirname "$0")/../lib/suite.sh"
WORK=$(mktemp -d /tmp/isomargin-enforce-dump.XXXXXX) || exit 1
SRC=$PGDATABASE
trap 'rm -rf "$WORK"; for db in "${SRC}_plain" "${SRC}_custom" "${SRC}_renamed"; do dropdb --if-exists "$db" >/dev/null 2>&1; done' EXIT

# What a restore must reproduce.
snapshot()
{
	q -d "$1" <<'SQL'
SELECT id, positions, marks, instruments, state_table, columns, indexes, triggers FROM isomargin.enforcement;
SELECT id, position_key, symbol, old_status, new_status, mark_price, equity, maintenance_margin FROM isomargin.events ORDER BY id;
SELECT symbol, mark_price FROM isomargin.enforce_state_1 ORDER BY symbol;
SELECT id, liquidation_price, margin_call_price, bankruptcy_price, status FROM positions ORDER BY id;
SELECT tgrelid::regclass::text AS tab, tgname FROM pg_trigger WHERE tgname LIKE 'isomargin%' ORDER BY 1, 2;
SELECT indexrelid::regclass::text AS index FROM pg_index WHERE indrelid = 'positions'::regclass ORDER BY 1;
SQL
}

# Enforcement still works: a mark update flags, an insert is checked, ids continue.
carry_on()
{
	q -d "$1" <<'SQL'
UPDATE marks SET mark_price = 27000 WHERE symbol = 'BTC';
INSERT INTO positions VALUES (4, 'BTC', -1, 27000, 130);
SELECT id, status FROM positions ORDER BY id;
SELECT id, position_key, old_status, new_status, mark_price FROM isomargin.events WHERE id > 2 ORDER BY id;
SELECT isomargin.unenforce('positions');
SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'isomargin%';
SELECT count(*) FROM pg_class WHERE relname LIKE 'isomargin\_1\_%' OR relname = 'enforce_state_1';
SQL
}

# The book: two events (BTC long 2 liquidate at 28000, the ETH short bankrupt at 2200).
make_book()
{
	q -d "$SRC" >/dev/null <<'SQL'
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL REFERENCES instruments, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments VALUES ('BTC', 0.004), ('ETH', 0.005);
INSERT INTO marks VALUES ('BTC', 30000), ('ETH', 2000);
INSERT INTO positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'BTC', 1, 30000, 2050), (3, 'ETH', -10, 2000, 2000);
SELECT isomargin.enforce('positions', 'marks', 'instruments');
UPDATE marks SET mark_price = 28000 WHERE symbol = 'BTC';
UPDATE marks SET mark_price = 2200 WHERE symbol = 'ETH';
SQL
}

q -d "$SRC" -c "CREATE EXTENSION isomargin" && make_book ||
	{ echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
want=$(snapshot "$SRC")
check "two events before the dump" "$(q -d "$SRC" -c 'SELECT count(*) FROM isomargin.events')" 2
# At 27000 long 1 has equity 0 (bankrupt), long 2 below zero (liquidate -> bankrupt); the
# ETH short went bankrupt at 2200 before the dump; the new short 4 (equity 130, maintenance
# margin 108 >= 0.8 * 130) is margin_call on insert.
want_after=$(carry_on "$SRC")
check "enforcement in the source" "$(sed -n '1,4p' <<<"$want_after")" "1|bankrupt
2|bankrupt
3|bankrupt
4|margin_call"

# The dumps are taken from a second copy of the book (the first one was
# consumed by carry_on above).
q -d "$SRC" -c "DROP TABLE positions, marks, instruments" -c "TRUNCATE isomargin.events RESTART IDENTITY" \
	-c "ALTER SEQUENCE isomargin.enforcement_id_seq RESTART" && make_book ||
	{ echo "re-setup failed"; echo "$PASSED passed, $((FAILED + 1)) failed"; exit 1; }
check "the second copy is the first" "$(snapshot "$SRC")" "$want"

pg_dump -Fp -f "$WORK/plain.sql" "$SRC" && createdb "${SRC}_plain" &&
	q -d "${SRC}_plain" -f "$WORK/plain.sql" >/dev/null
check "plain dump and restore: catalog, events, marks, statuses, triggers, indexes" \
	"$(snapshot "${SRC}_plain")" "$want"
check "plain restore: enforcement carries on" "$(carry_on "${SRC}_plain")" "$want_after"

pg_dump -Fc -f "$WORK/custom.dump" "$SRC" && createdb "${SRC}_custom" &&
	pg_restore --exit-on-error -d "${SRC}_custom" "$WORK/custom.dump"
check "custom dump and restore: catalog, events, marks, statuses, triggers, indexes" \
	"$(snapshot "${SRC}_custom")" "$want"
check "custom restore: enforcement carries on" "$(carry_on "${SRC}_custom")" "$want_after"

# Renamed and moved to another schema, the book is dumped under its new names (the
# catalog row's regclass columns as names, never OIDs) and carries on after a restore;
# unenforce finds the indexes in the schema they moved to.
q -d "$SRC" -c "CREATE SCHEMA desk" -c "ALTER TABLE positions RENAME TO book" \
	-c "ALTER TABLE book SET SCHEMA desk" -c "ALTER TABLE marks RENAME TO ticks" \
	-c "ALTER TABLE instruments SET SCHEMA desk" &&
	pg_dump -Fp -f "$WORK/renamed.sql" "$SRC" && createdb "${SRC}_renamed" &&
	q -d "${SRC}_renamed" -f "$WORK/renamed.sql" >/dev/null
check "renamed: the restored catalog names the tables" \
	"$(q -d "${SRC}_renamed" -c "SET search_path = ''" \
		-c "SELECT positions, marks, instruments FROM isomargin.enforcement")" \
	"desk.book|public.ticks|desk.instruments"
check "renamed restore: enforcement carries on, unenforce cleans up" "$(q -d "${SRC}_renamed" <<'SQL'
UPDATE ticks SET mark_price = 27000 WHERE symbol = 'BTC';
SELECT id, status FROM desk.book ORDER BY id;
SELECT isomargin.unenforce('desk.book');
SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'isomargin%';
SELECT count(*) FROM pg_class WHERE relname LIKE 'isomargin\_1\_%' OR relname = 'enforce_state_1';
SQL
)" "1|bankrupt
2|bankrupt
3|bankrupt

0
0"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
