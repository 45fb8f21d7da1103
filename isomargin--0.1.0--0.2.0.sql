-- isomargin 0.1.0 -> 0.2.0 (unreleased; CHANGELOG.md lists what changes).
\echo Use "ALTER EXTENSION isomargin UPDATE TO '0.2.0'" to load this file. \quit

-- Security: enforce() runs the statements that touch the attached tables'
-- rows as the positions owner (run_as_owner), so code that owner attached
-- to them never runs with the caller's rights.  The triggers' C side
-- switches roles itself (same library).

-- Runs one statement of enforce() as the owner of an attached table, in a
-- security-restricted operation (src/enforce_owner.c): code the owner
-- attached to the table never runs with the caller's rights.  The caller
-- must own the table, so the switch only ever drops rights.  Returns the
-- first column of the first row as text, or NULL.
CREATE FUNCTION @extschema@.run_as_owner(tab pg_catalog.regclass, statement pg_catalog.text)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'run_as_owner' LANGUAGE C STRICT VOLATILE;


-- Diagnostics: how many calls of the figures each route answered in this
-- backend (src/functions.c).  The fast route should answer the common case;
-- the exact route takes what it declines.  Parallel workers count their own.
CREATE FUNCTION @extschema@.routes(OUT route pg_catalog.text, OUT calls pg_catalog.int8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'routes'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

-- Dropped tables: a table of an attachment cannot be dropped (the event
-- trigger's error names isomargin.unenforce); the events of a dropped table
-- go with it.  unenforce() deletes the catalog row first (the event trigger
-- would refuse to drop the state table otherwise) and finds the indexes
-- among the positions table's own, wherever SET SCHEMA moved them.
CREATE INDEX events_positions ON @extschema@.events (positions);

-- Refuses to drop a table of an attachment (hint: isomargin.unenforce) and
-- deletes the events of a dropped table (src/enforce_drop.c).  ALWAYS: it
-- fires under session_replication_role = replica too.
CREATE FUNCTION @extschema@.enforcement_sql_drop() RETURNS event_trigger
AS 'MODULE_PATHNAME', 'enforcement_sql_drop' LANGUAGE C;
CREATE EVENT TRIGGER isomargin_sql_drop ON sql_drop
EXECUTE FUNCTION @extschema@.enforcement_sql_drop();
ALTER EVENT TRIGGER isomargin_sql_drop ENABLE ALWAYS;

-- Removes what enforce() created on a positions table: its triggers on the
-- three tables, its indexes and its state table.  The columns it added and
-- their values stay, and so do the events.  The catalog row goes first:
-- enforcement_sql_drop refuses to drop the state table of an attachment.
-- Indexes are found by name among the positions table's own, wherever
-- ALTER TABLE ... SET SCHEMA moved them.
CREATE OR REPLACE FUNCTION @extschema@.unenforce(positions pg_catalog.regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    e   record;
    i   regclass;
    t   record;
BEGIN
    DELETE FROM @extschema@.enforcement x WHERE x.positions = unenforce.positions RETURNING * INTO e;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table "%" is not enforced', unenforce.positions
            USING ERRCODE = '22023';
    END IF;
    FOR t IN SELECT tg.tgname, tg.tgrelid::regclass AS rel FROM pg_trigger tg
              WHERE tg.tgrelid IN (e.positions, e.marks, e.instruments)
                AND tg.tgname IN (SELECT jsonb_each_text.value FROM jsonb_each_text(e.triggers))
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
    END LOOP;
    FOR i IN SELECT x.indexrelid::regclass FROM pg_index x JOIN pg_class r ON r.oid = x.indexrelid
              WHERE x.indrelid = e.positions
                AND r.relname IN (SELECT n[array_upper(n, 1)] FROM unnest(e.indexes) AS u(q),
                                         LATERAL parse_ident(u.q) AS n)
    LOOP
        EXECUTE format('DROP INDEX %s', i);
    END LOOP;
    IF e.state_table IS NOT NULL AND EXISTS (SELECT 1 FROM pg_class r WHERE r.oid = e.state_table) THEN
        EXECUTE format('DROP TABLE %s', e.state_table);
    END IF;
END
$fn$;


-- What-if and pre-trade figures (issue 17): install/26_whatif.sql, the same statements.

CREATE TYPE @extschema@.position_side AS ENUM ('long', 'short');
COMMENT ON TYPE @extschema@.position_side IS
    'the side of a position: long (size > 0) or short (size < 0); isomargin.position_side(0) is NULL';

CREATE TYPE @extschema@.fill_result AS (
    size            numeric,
    entry_price     numeric,
    margin          numeric,
    realized_pnl    numeric,
    fee             numeric,
    released_margin numeric,
    cash            numeric
);
COMMENT ON TYPE @extschema@.fill_result IS
    'a position after a fill (isomargin.after_fill), and what the fill settled: realized PnL, fee, released margin, cash to the wallet';

CREATE FUNCTION @extschema@.position_side(size numeric)
RETURNS @extschema@.position_side
AS 'MODULE_PATHNAME', 'position_side'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.effective_leverage(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
AS 'MODULE_PATHNAME', 'effective_leverage'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.return_on_equity(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
AS 'MODULE_PATHNAME', 'return_on_equity'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.liquidation_distance(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'liquidation_distance'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.liquidation_distance(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'liquidation_distance'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.liquidation_distance_ratio(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'liquidation_distance_ratio'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.liquidation_distance_ratio(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'liquidation_distance_ratio'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.top_up_to_ok(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8)
RETURNS numeric
AS 'MODULE_PATHNAME', 'top_up_to_ok'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.top_up_to_ok(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8)
RETURNS numeric
AS 'MODULE_PATHNAME', 'top_up_to_ok'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.top_up_for_liquidation_price(
    size numeric, entry_price numeric, margin numeric, target_price numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'top_up_for_liquidation_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.top_up_for_liquidation_price(
    size numeric, entry_price numeric, margin numeric, target_price numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'top_up_for_liquidation_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.max_removable_margin(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, leverage numeric,
    mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'max_removable_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.max_removable_margin(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, leverage numeric,
    tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'max_removable_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.max_size(
    collateral numeric, price numeric, leverage numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    lot_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'max_size'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.max_size(
    collateral numeric, price numeric, leverage numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    lot_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'max_size_tiers'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.max_leverage_for_size(
    size numeric, price numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
AS 'MODULE_PATHNAME', 'max_leverage_for_size'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.after_fill(
    size numeric, entry_price numeric, margin numeric, fill_size numeric, fill_price numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_added numeric DEFAULT 0)
RETURNS @extschema@.fill_result
AS 'MODULE_PATHNAME', 'after_fill'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- max_leverage and max_notional answer NULL beyond the schedule (a report
-- over a whole book carries on); with strict => true they raise the error.
CREATE FUNCTION @extschema@.max_leverage(
    tiers @extschema@.tiers, notional pg_catalog.numeric, strict pg_catalog.bool)
RETURNS pg_catalog.numeric
AS 'MODULE_PATHNAME', 'max_leverage'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.max_notional(
    tiers @extschema@.tiers, leverage pg_catalog.numeric, strict pg_catalog.bool)
RETURNS pg_catalog.numeric
AS 'MODULE_PATHNAME', 'max_notional'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- claim_events: a max_events below 1 is refused with 22023 (it failed with
-- LIMIT's own message, or claimed nothing for 0).
CREATE OR REPLACE FUNCTION @extschema@.claim_events(worker pg_catalog.text, max_events pg_catalog.int4 DEFAULT 1)
RETURNS SETOF @extschema@.events
LANGUAGE plpgsql STRICT VOLATILE
AS $fn$
BEGIN
    IF claim_events.max_events OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'max_events must be at least 1'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The value is %s.', claim_events.max_events);
    END IF;
    RETURN QUERY
    UPDATE @extschema@.events AS e
       SET claimed_by = claim_events.worker, claimed_at = pg_catalog.clock_timestamp()
      FROM (SELECT u.id FROM @extschema@.events AS u
             WHERE u.claimed_at IS NULL
             ORDER BY u.id
             LIMIT claim_events.max_events
             FOR UPDATE SKIP LOCKED) AS c
     WHERE e.id OPERATOR(pg_catalog.=) c.id
    RETURNING e.*;
END
$fn$;

-- claim_events gains filters (its two-argument calls keep working): replaced below.
DROP FUNCTION @extschema@.claim_events(pg_catalog.text, pg_catalog.int4);

-- ==== The event queue: causes, snapshots, grants (issue 15 item 4, issue 19 item 2) ====
-- src/enforce_queue.c; doc/enforcement.md, "The event queue" and "Privileges".

-- What caused an event: the position row's own change (the owner side: a
-- trade, a close, a top-up, funding), a mark, an instrument change, an
-- operator's explicit status write, or a recheck at the current mark
-- (enforce's recompute of every position).
CREATE TYPE @extschema@.event_cause AS ENUM ('position', 'mark', 'instrument', 'operator', 'enforce');

-- Added columns (NULL on events written before 0.2.0): the cause, a
-- snapshot of the position at the change (inputs and stored prices; the
-- mark is mark_price), and the worker's acknowledgement.
ALTER TABLE @extschema@.events
    ADD COLUMN cause @extschema@.event_cause,
    ADD COLUMN size pg_catalog.numeric,
    ADD COLUMN entry_price pg_catalog.numeric,
    ADD COLUMN margin pg_catalog.numeric,
    ADD COLUMN liquidation_price pg_catalog.numeric,
    ADD COLUMN margin_call_price pg_catalog.numeric,
    ADD COLUMN bankruptcy_price pg_catalog.numeric,
    ADD COLUMN acked_at pg_catalog.timestamptz;
COMMENT ON TABLE @extschema@.events IS
    'isomargin enforcement: one row per status change of an enforced position; NOTIFY isomargin_events carries the positions table, once per transaction';

-- Which roles may read (and, with can_claim, claim and acknowledge) the
-- events of a positions table: written by grant_events / revoke_events.
CREATE TABLE @extschema@.event_grants (
    positions  pg_catalog.regclass NOT NULL,
    grantee    pg_catalog.regrole NOT NULL,
    can_claim  pg_catalog.bool NOT NULL,
    granted_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (positions, grantee)
);
COMMENT ON TABLE @extschema@.event_grants IS
    'isomargin enforcement: the roles that read or claim the events of a positions table (grant_events)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.event_grants', '');
-- read by the events policy below, as the reading role
GRANT SELECT ON @extschema@.event_grants TO PUBLIC;

-- A role granted SELECT on isomargin.events (an analyst) sees only the
-- events of tables whose owner's privileges it has or that were granted to it.
ALTER TABLE @extschema@.events ENABLE ROW LEVEL SECURITY;
CREATE POLICY events_granted ON @extschema@.events FOR SELECT USING (
    pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                             WHERE c.oid OPERATOR(pg_catalog.=) events.positions::pg_catalog.oid), 'USAGE')
    OR EXISTS (SELECT 1 FROM @extschema@.event_grants g
                WHERE g.positions::pg_catalog.oid OPERATOR(pg_catalog.=) events.positions::pg_catalog.oid
                  AND pg_catalog.pg_has_role(g.grantee::pg_catalog.oid, 'USAGE')));
-- No policy for UPDATE or DELETE: even a role granted them on the table
-- changes no row; claims and acknowledgements go through the functions below.

-- Claims up to max_events unclaimed events, oldest first, of the tables the
-- caller may claim, filtered by table, instruments, new status, cause and
-- position (its key, as the events record it).
-- Concurrent callers never get the same event (FOR UPDATE SKIP LOCKED); a
-- claim rolled back with the caller's transaction is claimable again.
CREATE FUNCTION @extschema@.claim_events(
    worker pg_catalog.text,
    max_events pg_catalog.int4 DEFAULT 1,
    positions pg_catalog.regclass DEFAULT NULL,
    symbols pg_catalog.text[] DEFAULT NULL,
    statuses @extschema@.margin_status[] DEFAULT NULL,
    causes @extschema@.event_cause[] DEFAULT NULL,
    position_keys pg_catalog.jsonb[] DEFAULT NULL)
RETURNS SETOF @extschema@.events
AS 'MODULE_PATHNAME', 'claim_events' LANGUAGE C VOLATILE;

-- The worker is done with events it claimed; returns how many it acknowledged now.
CREATE FUNCTION @extschema@.ack_events(worker pg_catalog.text, ids pg_catalog.int8[])
RETURNS pg_catalog.int4
AS 'MODULE_PATHNAME', 'ack_events' LANGUAGE C VOLATILE;

-- Deletes the events claimed longer ago than older_than (with unclaimed,
-- also the unclaimed ones created longer ago); returns how many.
CREATE FUNCTION @extschema@.purge_events(older_than pg_catalog.interval,
                                         positions pg_catalog.regclass DEFAULT NULL,
                                         unclaimed pg_catalog.bool DEFAULT false)
RETURNS pg_catalog.int8
AS 'MODULE_PATHNAME', 'purge_events' LANGUAGE C VOLATILE;

-- The mark an instrument's positions were last checked against, its state
-- row locked FOR SHARE until the end of the transaction: for a liquidation
-- worker, which may claim the table's events (doc/liquidation.md).
CREATE FUNCTION @extschema@.checked_mark(positions pg_catalog.regclass, symbol pg_catalog.text)
RETURNS pg_catalog.numeric
AS 'MODULE_PATHNAME', 'checked_mark' LANGUAGE C STRICT VOLATILE;

-- The owner of a positions table grants its events to a role (claim: to
-- claim and acknowledge them too, else only to read them), or revokes them.
CREATE FUNCTION @extschema@.grant_events(positions pg_catalog.regclass, grantee pg_catalog.regrole,
                                         claim pg_catalog.bool DEFAULT true)
RETURNS void
AS 'MODULE_PATHNAME', 'grant_events' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.revoke_events(positions pg_catalog.regclass, grantee pg_catalog.regrole)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'revoke_events' LANGUAGE C VOLATILE;

-- The state tables are written only by enforcement (src/enforce_guard.c):
-- each has a guard trigger and belongs to the events table's owner; the
-- positions owner, whom the triggers run as, holds SELECT, INSERT, UPDATE.
CREATE FUNCTION @extschema@.enforce_state_guard() RETURNS trigger
AS 'MODULE_PATHNAME', 'enforce_state_guard' LANGUAGE C;
-- The state tables of existing attachments: from the positions owner's to the events owner's, guarded.
DO $up$
DECLARE
    e record;
BEGIN
    FOR e IN SELECT a.state_table, po.rolname AS positions_owner, eo.rolname AS events_owner
               FROM @extschema@.enforcement a
               JOIN pg_catalog.pg_class p ON p.oid OPERATOR(pg_catalog.=) a.positions::pg_catalog.oid
               JOIN pg_catalog.pg_roles po ON po.oid OPERATOR(pg_catalog.=) p.relowner,
                    pg_catalog.pg_class ev JOIN pg_catalog.pg_roles eo ON eo.oid OPERATOR(pg_catalog.=) ev.relowner
              WHERE ev.oid OPERATOR(pg_catalog.=) '@extschema@.events'::pg_catalog.regclass::pg_catalog.oid
                AND a.state_table IS NOT NULL
    LOOP
        -- the owner first: ALTER TABLE ... OWNER TO hands the old owner's grants to the new one
        EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %I', e.state_table, e.events_owner);
        EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE ON %s TO %I', e.state_table, e.positions_owner);
        EXECUTE pg_catalog.format('CREATE TRIGGER state_guard BEFORE INSERT OR UPDATE OR DELETE ON %s '
                                  'FOR EACH ROW EXECUTE FUNCTION @extschema@.enforce_state_guard()', e.state_table);
    END LOOP;
END
$up$;
-- ---- Venue conventions (issue 14, doc/venues.md) ----
-- The convention types (install/05_venues.sql); the figures they change take
-- them as defaulted arguments (install/10_core.sql, install/25_tiers_figures.sql):
-- a new signature, so each is dropped and created again; okx_margin_ratio
-- (install/27_venues.sql).
CREATE TYPE @extschema@.mm_basis AS ENUM ('mark', 'entry');
COMMENT ON TYPE @extschema@.mm_basis IS
    'maintenance margin (and a fee to close charged with it) on the notional at the evaluated price (mark) or at entry (entry: Bybit classic)';

CREATE TYPE @extschema@.fee_basis AS ENUM ('mark', 'bankruptcy');
COMMENT ON TYPE @extschema@.fee_basis IS
    'fee to close charged on the notional the maintenance margin takes (mark) or on the notional at the bankruptcy price (bankruptcy: Bybit)';

CREATE TYPE @extschema@.tier_basis AS ENUM ('notional', 'contracts');
COMMENT ON TYPE @extschema@.tier_basis IS
    'brackets chosen by notional (notional) or by the size in contracts against floors in contracts (contracts: OKX)';

CREATE TYPE @extschema@.bracket_basis AS ENUM ('price', 'entry');
COMMENT ON TYPE @extschema@.bracket_basis IS
    'the bracket of the notional at the price evaluated, the tier-consistent root for prices (price), or at entry (entry: calculators that do not iterate)';
DROP FUNCTION @extschema@.maintenance_margin(numeric, numeric, numeric, numeric, @extschema@.contract_kind, numeric);
DROP FUNCTION @extschema@.maintenance_margin(numeric, numeric, @extschema@.tiers, numeric, @extschema@.contract_kind, numeric);
DROP FUNCTION @extschema@.margin_ratio(numeric, numeric, numeric, numeric, numeric, numeric, @extschema@.contract_kind, numeric);
DROP FUNCTION @extschema@.margin_ratio(numeric, numeric, numeric, numeric, @extschema@.tiers, numeric, @extschema@.contract_kind, numeric);
DROP FUNCTION @extschema@.margin_status(numeric, numeric, numeric, numeric, numeric, numeric, @extschema@.contract_kind, numeric, numeric);
DROP FUNCTION @extschema@.margin_status(numeric, numeric, numeric, numeric, @extschema@.tiers, numeric, @extschema@.contract_kind, numeric, numeric);
DROP FUNCTION @extschema@.liquidation_price(numeric, numeric, numeric, numeric, numeric, @extschema@.contract_kind, numeric, numeric);
DROP FUNCTION @extschema@.liquidation_price(numeric, numeric, numeric, @extschema@.tiers, numeric, @extschema@.contract_kind, numeric, numeric);
DROP FUNCTION @extschema@.margin_call_price(numeric, numeric, numeric, numeric, numeric, @extschema@.contract_kind, numeric, numeric, numeric);
DROP FUNCTION @extschema@.margin_call_price(numeric, numeric, numeric, @extschema@.tiers, numeric, @extschema@.contract_kind, numeric, numeric, numeric);
DROP FUNCTION @extschema@.assess(numeric, numeric, numeric, numeric, numeric, numeric, @extschema@.contract_kind, numeric, numeric, numeric, numeric);
DROP FUNCTION @extschema@.assess(numeric, numeric, numeric, numeric, @extschema@.tiers, numeric, @extschema@.contract_kind, numeric, numeric, numeric, numeric);
CREATE FUNCTION @extschema@.maintenance_margin(
    size numeric, mark_price numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    maintenance_amount numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'maintenance_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.margin_ratio(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    maintenance_amount numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'margin_ratio'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.margin_status(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    maintenance_amount numeric DEFAULT 0)
RETURNS @extschema@.margin_status
AS 'MODULE_PATHNAME', 'margin_status'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.liquidation_price(
    size numeric, entry_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    maintenance_amount numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'liquidation_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.margin_call_price(
    size numeric, entry_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    tick_size numeric DEFAULT 0,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    maintenance_amount numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'margin_call_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- Not STRICT: leverage may be NULL (initial_margin is then NULL); any other
-- NULL argument gives a NULL row.
CREATE FUNCTION @extschema@.assess(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    tick_size numeric DEFAULT 0,
    leverage numeric DEFAULT NULL,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    maintenance_amount numeric DEFAULT 0)
RETURNS @extschema@.assessment
AS 'MODULE_PATHNAME', 'assess'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.maintenance_margin(
    size numeric, mark_price numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tier_basis @extschema@.tier_basis DEFAULT 'notional')
RETURNS numeric
AS 'MODULE_PATHNAME', 'maintenance_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.margin_ratio(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price')
RETURNS numeric
AS 'MODULE_PATHNAME', 'margin_ratio'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.margin_status(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price')
RETURNS @extschema@.margin_status
AS 'MODULE_PATHNAME', 'margin_status'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.liquidation_price(
    size numeric, entry_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price')
RETURNS numeric
AS 'MODULE_PATHNAME', 'liquidation_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.margin_call_price(
    size numeric, entry_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    tick_size numeric DEFAULT 0,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price')
RETURNS numeric
AS 'MODULE_PATHNAME', 'margin_call_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.assess(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    tick_size numeric DEFAULT 0,
    leverage numeric DEFAULT NULL,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price')
RETURNS @extschema@.assessment
AS 'MODULE_PATHNAME', 'assess'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.okx_margin_ratio(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    maintenance_amount numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'okx_margin_ratio'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.okx_margin_ratio(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price')
RETURNS numeric
AS 'MODULE_PATHNAME', 'okx_margin_ratio'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- One position's liquidation price under each convention, side by side
-- (doc/venues.md): every combination of mm_basis and fee_basis (with tiers,
-- also bracket_basis) in enum order, the default first; from_default the
-- difference from the default's price, spread the highest minus the lowest.
CREATE FUNCTION @extschema@.liquidation_price_by_convention(
    size numeric, entry_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0,
    maintenance_amount numeric DEFAULT 0)
RETURNS TABLE (mm_basis @extschema@.mm_basis, fee_basis @extschema@.fee_basis,
               bracket_basis @extschema@.bracket_basis, liquidation_price numeric,
               from_default numeric, spread numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
SELECT c.mb, c.fb, NULL::@extschema@.bracket_basis, c.lp,
       c.lp OPERATOR(pg_catalog.-) pg_catalog.first_value(c.lp) OVER (ORDER BY c.mb, c.fb),
       pg_catalog.max(c.lp) OVER () OPERATOR(pg_catalog.-) pg_catalog.min(c.lp) OVER ()
  FROM (SELECT m.mb, f.fb,
               @extschema@.liquidation_price($1, $2, $3, $4, $5, $6, $7, $8, m.mb, f.fb, $9) AS lp
          FROM pg_catalog.unnest(pg_catalog.enum_range(NULL::@extschema@.mm_basis)) AS m(mb)
         CROSS JOIN pg_catalog.unnest(pg_catalog.enum_range(NULL::@extschema@.fee_basis)) AS f(fb)) AS c
 ORDER BY c.mb, c.fb
$fn$;

CREATE FUNCTION @extschema@.liquidation_price_by_convention(
    size numeric, entry_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0,
    tier_basis @extschema@.tier_basis DEFAULT 'notional')
RETURNS TABLE (mm_basis @extschema@.mm_basis, fee_basis @extschema@.fee_basis,
               bracket_basis @extschema@.bracket_basis, liquidation_price numeric,
               from_default numeric, spread numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
SELECT c.mb, c.fb, c.bb, c.lp,
       c.lp OPERATOR(pg_catalog.-) pg_catalog.first_value(c.lp) OVER (ORDER BY c.mb, c.fb, c.bb),
       pg_catalog.max(c.lp) OVER () OPERATOR(pg_catalog.-) pg_catalog.min(c.lp) OVER ()
  FROM (SELECT m.mb, f.fb, b.bb,
               @extschema@.liquidation_price($1, $2, $3, $4, $5, $6, $7, $8, m.mb, f.fb, $9, b.bb) AS lp
          FROM pg_catalog.unnest(pg_catalog.enum_range(NULL::@extschema@.mm_basis)) AS m(mb)
         CROSS JOIN pg_catalog.unnest(pg_catalog.enum_range(NULL::@extschema@.fee_basis)) AS f(fb)
         CROSS JOIN pg_catalog.unnest(pg_catalog.enum_range(NULL::@extschema@.bracket_basis)) AS b(bb)) AS c
 ORDER BY c.mb, c.fb, c.bb
$fn$;

-- ---- Attachment contract and marks (issue 13 item 4; issue 15 items 1, 2, 6) ----
-- One attachment contract, resolved in C (src/enforce_contract.c) for
-- enforce() and the reports alike; the reports' own column checks go.
ALTER TABLE @extschema@.enforcement ADD COLUMN tick_size pg_catalog.numeric NOT NULL DEFAULT 0;
CREATE FUNCTION @extschema@._attachment_contract(
    positions pg_catalog.regclass, marks pg_catalog.regclass, instruments pg_catalog.regclass,
    columns pg_catalog.jsonb, purpose pg_catalog.text)
RETURNS pg_catalog.jsonb
AS 'MODULE_PATHNAME', 'attachment_contract' LANGUAGE C STABLE;
DROP FUNCTION @extschema@._report_column(pg_catalog.regclass, pg_catalog.text, pg_catalog.text,
                                         pg_catalog.jsonb, pg_catalog.bool, pg_catalog.regtype[]);
-- _report_book is replaced at the end of the script (reports with add-on rates).
-- enforce() takes the attachment's settings (issue 15 item 6): a new signature.
DROP FUNCTION @extschema@.enforce(pg_catalog.regclass, pg_catalog.regclass, pg_catalog.regclass, pg_catalog.jsonb);
CREATE FUNCTION @extschema@._check_settings(margin_call_ratio pg_catalog.numeric,
                                            tick_size pg_catalog.numeric)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF margin_call_ratio IS NULL OR tick_size IS NULL THEN
        RAISE EXCEPTION 'margin_call_ratio and tick_size must not be null' USING ERRCODE = '22023';
    END IF;
    PERFORM @extschema@.margin_call_price(size => 1, entry_price => 1, margin => 0, mmr => 0,
                                          margin_call_ratio => _check_settings.margin_call_ratio,
                                          tick_size => _check_settings.tick_size);
END
$fn$;
CREATE FUNCTION @extschema@.enforce(
    positions pg_catalog.regclass,
    marks pg_catalog.regclass,
    instruments pg_catalog.regclass,
    columns pg_catalog.jsonb DEFAULT '{}',
    margin_call_ratio pg_catalog.numeric DEFAULT 0.8,
    tick_size pg_catalog.numeric DEFAULT 0)
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    pos     regclass := enforce.positions;
    mk      regclass := enforce.marks;
    ins     regclass := enforce.instruments;
    k       text;
    v       jsonb;
    contract jsonb;
    c       jsonb;          -- key -> column name, resolved (the contract's columns)
    symtype oid;
    symtypmod int4;
    symcoll oid;
    added   text[] := '{}';
    idx     text[] := '{}';
    trg     jsonb;
    att_id  int4;
    st      text;
    state   regclass;
    bad     text;
    dup     text;
    coll    text := '';
    owner   oid;
    timetype text;
BEGIN
    IF pos IS NOT NULL AND EXISTS (SELECT 1 FROM @extschema@.enforcement e WHERE e.positions = pos) THEN
        RAISE EXCEPTION 'table "%" is already enforced', pos
            USING ERRCODE = '22023',
                  HINT = 'Run isomargin.unenforce() on it first.';
    END IF;
    -- A partitioned table's enforcement covers its partitions: neither it
    -- nor one of its partitions is enforced on its own besides.
    SELECT x.positions::text, x.inner_table INTO dup, bad FROM (
        SELECT e.positions, false AS inner_table FROM @extschema@.enforcement e
         WHERE e.positions IN (SELECT a.relid FROM pg_partition_ancestors(pos) a WHERE a.relid <> pos)
        UNION ALL
        SELECT e.positions, true FROM @extschema@.enforcement e
         WHERE e.positions IN (SELECT t.relid FROM pg_partition_tree(pos) t WHERE t.relid <> pos)) x
     ORDER BY x.positions::text LIMIT 1;
    IF dup IS NOT NULL THEN
        IF bad::boolean THEN
            RAISE EXCEPTION 'partition % of table "%" is enforced', dup, pos
                USING ERRCODE = '0A000',
                      DETAIL = 'Enforcement of a partitioned table covers its partitions.',
                      HINT = format('Run SELECT isomargin.unenforce(%L); first.', dup);
        END IF;
        RAISE EXCEPTION 'table "%" is a partition of enforced table %', pos, dup
            USING ERRCODE = '0A000',
                  DETAIL = 'Enforcement of a partitioned table covers its partitions.',
                  HINT = 'Its positions are enforced already, through the partitioned table.';
    END IF;
    bad := NULL;
    dup := NULL;
    -- What the positions owner needs: the triggers and the copy of the
    -- marks run as it (the contract reads the marks as it too).  A missing grant
    -- is named here, before anything else.
    SELECT r.relowner INTO owner FROM pg_class r WHERE r.oid = pos;
    SELECT x.what, x.obj INTO bad, dup FROM (VALUES
            (1, 'USAGE', 'SCHEMA @extschema@', has_schema_privilege(owner, '@extschema@', 'USAGE')),
            (2, 'SELECT', mk::text, has_table_privilege(owner, mk, 'SELECT')),
            (3, 'SELECT', ins::text, has_table_privilege(owner, ins, 'SELECT'))
            UNION ALL
            SELECT 4, 'USAGE', format('SCHEMA %I', n.nspname), has_schema_privilege(owner, n.oid, 'USAGE')
              FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace
             WHERE r.oid IN (pos, mk, ins)) AS x(n, what, obj, ok)
     WHERE NOT x.ok ORDER BY x.n, x.obj LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'role %, the owner of table %, has no % on %',
                (SELECT rolname FROM pg_roles WHERE oid = owner), pos, bad, dup
            USING ERRCODE = '42501',
                  DETAIL = 'isomargin enforcement runs as the positions table''s owner.',
                  HINT = format('GRANT %s ON %s TO %I;', bad, dup, (SELECT rolname FROM pg_roles WHERE oid = owner));
    END IF;
    bad := NULL;
    dup := NULL;

    -- The attachment contract (src/enforce_contract.c): tables, the column
    -- mapping, every column and its type, the rule, the symbol type, the keys.
    contract := @extschema@._attachment_contract(pos, mk, ins, enforce.columns, 'enforce');
    c := contract -> 'columns';
    PERFORM @extschema@._check_settings(enforce.margin_call_ratio, enforce.tick_size);

    -- The maintained columns that are missing.
    FOR v IN SELECT * FROM jsonb_array_elements(contract -> 'add') LOOP
        EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s', pos, v ->> 'column', v ->> 'type');
        added := added || (v ->> 'column');
    END LOOP;

    SELECT a.atttypid, a.atttypmod, a.attcollation INTO symtype, symtypmod, symcoll
      FROM pg_attribute a WHERE a.attrelid = pos AND a.attname = c #>> '{positions,symbol}';

    INSERT INTO @extschema@.enforcement AS e (positions, marks, instruments, columns,
                                              margin_call_ratio, tick_size)
    VALUES (pos, mk, ins, c, enforce.margin_call_ratio, enforce.tick_size) RETURNING e.id INTO att_id;

    -- The state table: one row per instrument, its current mark.
    IF symcoll <> 0 THEN
        SELECT ' COLLATE ' || format('%I.%I', n.nspname, co.collname) INTO coll
          FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace WHERE co.oid = symcoll;
    END IF;
    st := 'enforce_state_' || att_id;
    -- mark_time, when mapped, and a mark a price band holds back (held_*).
    SELECT format_type(a.atttypid, a.atttypmod) INTO timetype FROM pg_attribute a
     WHERE a.attrelid = mk AND a.attname = c #>> '{marks,mark_time}';
    EXECUTE format('CREATE TABLE @extschema@.%I (symbol %s%s PRIMARY KEY, mark_price pg_catalog.numeric, '
                   'updated_at pg_catalog.timestamptz, held_price pg_catalog.numeric, '
                   'held_at pg_catalog.timestamptz%s)', st, format_type(symtype, symtypmod), coll,
                   CASE WHEN timetype IS NULL THEN ''
                        ELSE format(', mark_time %s, held_time %s', timetype, timetype) END);
    state := format('@extschema@.%I', st)::regclass;
    EXECUTE format('COMMENT ON TABLE %s IS %L', state,
                   format('isomargin enforcement %s: the current mark of each instrument of %s', att_id, pos));
    -- It belongs to the events table's owner.  The positions owner, whom the
    -- triggers run as, reads, locks and writes it; the guard (created below)
    -- lets only enforcement's statements write.
    IF (SELECT r.relowner FROM pg_class r WHERE r.oid = state)
       <> (SELECT r.relowner FROM pg_class r WHERE r.oid = '@extschema@.events'::regclass) THEN
        EXECUTE format('ALTER TABLE %s OWNER TO %I', state,
                       (SELECT o.rolname FROM pg_class r JOIN pg_roles o ON o.oid = r.relowner
                         WHERE r.oid = '@extschema@.events'::regclass));
    END IF;
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %s TO %I', state,
                   (SELECT rolname FROM pg_roles WHERE oid = owner));

    -- Current marks, as the contract defines them (one row per symbol, or
    -- the latest by mark_time).
    PERFORM @extschema@.run_as_owner(pos,
        format('INSERT INTO %s (symbol, mark_price%s) SELECT m.symbol, m.mark_price%s FROM (%s) m',
               state, CASE WHEN timetype IS NULL THEN '' ELSE ', mark_time' END,
               CASE WHEN timetype IS NULL THEN '' ELSE ', m.mark_time' END,
               contract ->> 'current_marks'));
    bad := @extschema@.run_as_owner(pos,
        format('SELECT s.symbol::text FROM %s s WHERE NOT (s.mark_price OPERATOR(pg_catalog.>) 0 '
               'AND s.mark_price OPERATOR(pg_catalog.<) ''Infinity'') LIMIT 1', state));
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'the mark of instrument % in "%" is not a positive finite price', bad, mk
            USING ERRCODE = '22023';
    END IF;

    -- A state row for every instrument too (mark NULL: none yet), so that a
    -- position change never has to create one (doc/enforcement.md, Concurrency).
    PERFORM @extschema@.run_as_owner(pos,
        format('INSERT INTO %1$s (symbol) SELECT i.%2$I FROM %3$s i WHERE i.%2$I IS NOT NULL '
               'ON CONFLICT DO NOTHING', state, c #>> '{instruments,symbol}', ins));

    -- The state table's guard.
    EXECUTE format('CREATE TRIGGER state_guard BEFORE INSERT OR UPDATE OR DELETE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION @extschema@.enforce_state_guard()', state);

    -- Indexes: positions by symbol (for instrument changes), and one
    -- partial index per status for the candidate search (src/enforce_sql.c).
    IF NOT EXISTS (
        SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
         WHERE i.indrelid = pos AND i.indpred IS NULL AND a.attname = c #>> '{positions,symbol}') THEN
        EXECUTE format('CREATE INDEX %I ON %s (%I)', 'isomargin_' || att_id || '_symbol', pos,
                       c #>> '{positions,symbol}');
        idx := idx || format('%I.%I', (SELECT nspname FROM pg_namespace n JOIN pg_class r ON r.relnamespace = n.oid WHERE r.oid = pos),
                             'isomargin_' || att_id || '_symbol');
    END IF;
    FOR k, v IN SELECT * FROM (VALUES
            ('mcp', to_jsonb(ARRAY['margin_call_price', '<', 'liquidate'])),
            ('lp', to_jsonb(ARRAY['liquidation_price', '=', 'margin_call'])),
            ('bp', to_jsonb(ARRAY['bankruptcy_price', '=', 'liquidate']))) AS x(n, d)
    LOOP
        EXECUTE format('CREATE INDEX %I ON %s (%I, %I) WHERE %I OPERATOR(pg_catalog.%s) %L::@extschema@.margin_status',
                       'isomargin_' || att_id || '_' || k, pos, c #>> '{positions,symbol}',
                       c #>> ARRAY['positions', v->>0], c #>> '{positions,status}', v->>1, v->>2);
        idx := idx || format('%I.%I', (SELECT nspname FROM pg_namespace n JOIN pg_class r ON r.relnamespace = n.oid WHERE r.oid = pos),
                             'isomargin_' || att_id || '_' || k);
    END LOOP;

    -- Triggers; each one's argument is this attachment's id.
    trg := jsonb_build_object(
        'positions', 'isomargin_' || att_id || '_positions',
        'marks_insert', 'isomargin_' || att_id || '_marks_insert',
        'marks_update', 'isomargin_' || att_id || '_marks_update',
        'instruments', 'isomargin_' || att_id || '_instruments');
    EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OF %I, %I, %I, %I, %I, %I, %I, %I, %I ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION @extschema@.enforce_positions_trigger(%L)',
                   trg->>'positions', c #>> '{positions,symbol}', c #>> '{positions,size}',
                   c #>> '{positions,entry_price}', c #>> '{positions,margin}',
                   c #>> '{positions,liquidation_price}', c #>> '{positions,margin_call_price}',
                   c #>> '{positions,bankruptcy_price}', c #>> '{positions,status}',
                   c #>> '{positions,status_changed_at}', pos, att_id);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS isomargin_new '
                   'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.enforce_marks_trigger(%L)',
                   trg->>'marks_insert', mk, att_id);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s REFERENCING NEW TABLE AS isomargin_new '
                   'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.enforce_marks_trigger(%L)',
                   trg->>'marks_update', mk, att_id);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION @extschema@.enforce_instruments_trigger(%L)',
                   trg->>'instruments', ins, att_id);

    UPDATE @extschema@.enforcement AS e
       SET state_table = state, indexes = idx, triggers = trg, added_columns = added
     WHERE e.id = att_id;

    -- Every existing position: prices, and its status at the current mark,
    -- as the positions owner: the owner's triggers and constraints fire.
    PERFORM @extschema@.run_as_owner(pos,
        format('UPDATE %s SET %I = %I', pos, c #>> '{positions,size}', c #>> '{positions,size}'));

    RETURN jsonb_build_object('id', att_id, 'state_table', state::text, 'added_columns', to_jsonb(added),
                              'indexes', to_jsonb(idx), 'triggers', trg, 'notes', contract -> 'notes',
                              'settings', jsonb_build_object('margin_call_ratio', enforce.margin_call_ratio,
                                                             'tick_size', enforce.tick_size));
END
$fn$;

-- Marks (issue 15 items 1 and 2): install/32_enforce_marks.sql, the same statements.
-- Enforcement: marks an exchange can trust, and recovering from a bad tick
-- (issue 15 items 1 and 2).  Reference: doc/enforcement.md, "Marks" and
-- "Recovering from a bad tick".

-- Who stepped a status down, and why (isomargin.recheck); NULL for the
-- triggers' own events.
ALTER TABLE @extschema@.events ADD COLUMN actor pg_catalog.text, ADD COLUMN reason pg_catalog.text;

-- One row per mark a price band held back, per held mark a later mark
-- within the band superseded, and per held mark an operator confirmed.
CREATE SEQUENCE @extschema@.mark_events_id_seq AS pg_catalog.int8;
CREATE TABLE @extschema@.mark_events (
    id            pg_catalog.int8 NOT NULL
                  DEFAULT pg_catalog.nextval('@extschema@.mark_events_id_seq'::pg_catalog.regclass)
                  PRIMARY KEY,
    positions     pg_catalog.regclass NOT NULL,
    symbol        pg_catalog.text NOT NULL,
    event         pg_catalog.text NOT NULL
                  CHECK (event OPERATOR(pg_catalog.=) ANY (ARRAY['held', 'superseded', 'confirmed']::pg_catalog.text[])),
    mark_price    pg_catalog.numeric NOT NULL,  -- the mark held back (or confirmed, or superseded)
    current_mark  pg_catalog.numeric,           -- the instrument's mark at that moment (after, for superseded)
    actor         pg_catalog.text,              -- who wrote the mark, or confirmed it
    reason        pg_catalog.text,              -- confirm_mark's reason
    created_at    pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE @extschema@.mark_events_id_seq OWNED BY @extschema@.mark_events.id;
CREATE INDEX mark_events_positions ON @extschema@.mark_events (positions);
COMMENT ON TABLE @extschema@.mark_events IS
    'isomargin enforcement: marks held back by a price band, superseded, or confirmed by an operator';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.mark_events', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.mark_events_id_seq', '');

-- Lets through the mark the instrument's price band held back: it becomes
-- the current mark and flags what it crosses (src/enforce_recheck.c).  For
-- the positions table's owner; returns the confirmed mark.
CREATE FUNCTION @extschema@.confirm_mark(
    positions pg_catalog.regclass, symbol pg_catalog.text, reason pg_catalog.text)
RETURNS pg_catalog.numeric
AS 'MODULE_PATHNAME', 'confirm_mark' LANGUAGE C STRICT VOLATILE;

-- Re-checks the liquidate and bankrupt positions of the instruments against
-- their current marks and steps down the flags that no longer hold, each
-- with an event naming who and why.  For the positions table's owner;
-- returns how many positions stepped down.
CREATE FUNCTION @extschema@.recheck(
    positions pg_catalog.regclass, symbols pg_catalog.text[], reason pg_catalog.text)
RETURNS pg_catalog.int4
AS 'MODULE_PATHNAME', 'recheck' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION @extschema@.recheck(
    positions pg_catalog.regclass, symbol pg_catalog.text, reason pg_catalog.text)
RETURNS pg_catalog.int4
LANGUAGE sql STRICT VOLATILE
RETURN @extschema@.recheck(positions, ARRAY[symbol], reason);

-- Changes an attachment's margin-call ratio and tick size, and re-prices
-- every position at the current mark with one UPDATE (as enforce() prices
-- them; liquidate and bankrupt stay).  NULL keeps a setting.
CREATE FUNCTION @extschema@.enforce_settings(
    positions pg_catalog.regclass,
    margin_call_ratio pg_catalog.numeric DEFAULT NULL,
    tick_size pg_catalog.numeric DEFAULT NULL)
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    e record;
    n text;
BEGIN
    SELECT x.* INTO e FROM @extschema@.enforcement x WHERE x.positions = enforce_settings.positions;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table "%" is not enforced', enforce_settings.positions USING ERRCODE = '22023';
    END IF;
    e.margin_call_ratio := coalesce(enforce_settings.margin_call_ratio, e.margin_call_ratio);
    e.tick_size := coalesce(enforce_settings.tick_size, e.tick_size);
    PERFORM @extschema@._check_settings(e.margin_call_ratio, e.tick_size);
    UPDATE @extschema@.enforcement x
       SET margin_call_ratio = e.margin_call_ratio, tick_size = e.tick_size
     WHERE x.id = e.id;
    -- the triggers' cached settings (src/enforce_config.c), in every backend
    PERFORM @extschema@._attachment_changed(e.positions);
    n := @extschema@.run_as_owner(e.positions,
        format('WITH u AS (UPDATE %s SET %I = %I RETURNING 1) SELECT pg_catalog.count(*) FROM u',
               e.positions, e.columns #>> '{positions,size}', e.columns #>> '{positions,size}'));
    RETURN jsonb_build_object('margin_call_ratio', e.margin_call_ratio, 'tick_size', e.tick_size,
                              'repriced', n::int8);
END
$fn$;

-- Internal: drops every backend's cached copy of the attachment of a
-- positions table (a relcache invalidation, sent at commit).
CREATE FUNCTION @extschema@._attachment_changed(positions pg_catalog.regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'attachment_changed' LANGUAGE C STRICT VOLATILE;
-- The state tables of existing attachments: a mark held back by a price
-- band, and the current mark's time when mark_time is mapped (NULL until
-- the next mark: until then no tick counts as older).
DO $upgrade$
DECLARE
    e  record;
    tt text;
BEGIN
    FOR e IN SELECT x.state_table, x.marks, x.columns FROM @extschema@.enforcement x
              WHERE x.state_table IS NOT NULL LOOP
        tt := NULL;
        SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) INTO tt FROM pg_catalog.pg_attribute a
         WHERE a.attrelid OPERATOR(pg_catalog.=) e.marks
           AND a.attname OPERATOR(pg_catalog.=) (e.columns OPERATOR(pg_catalog.#>>) '{marks,mark_time}');
        EXECUTE pg_catalog.format('ALTER TABLE %s ADD COLUMN held_price pg_catalog.numeric, '
                                  'ADD COLUMN held_at pg_catalog.timestamptz%s', e.state_table,
                                  CASE WHEN tt IS NULL THEN ''
                                       ELSE pg_catalog.format(', ADD COLUMN mark_time %s, ADD COLUMN held_time %s', tt, tt) END);
    END LOOP;
END
$upgrade$;
-- ---- end of the attachment contract block ----



-- Dynamic requirements (issue 18): install/27_volatility.sql and the other pieces of issue 18 (install/27_volatility.sql install/28_liquidity.sql install/29_dynamic_figures.sql install/45_backtest.sql ), the same statements.
-- Dynamic requirements, part 1: a volatility add-on per instrument, from a
-- table of marks over time (doc/dynamic.md).  An EWMA of squared mark returns
-- kept as incremental state (one row per watched instrument), so each new mark
-- costs the same whatever the history's length; the add-on rate it gives is
-- written to a column of the instruments table when it changes, with its cause
-- in isomargin.addon_changes.  Every number is numeric, every rounding below
-- is the one doc/dynamic.md documents.

-- The EWMA decay per observation of a half-life of h observations: 0.5^(1/h),
-- rounded to 16 decimals (half away from zero).  RiskMetrics' daily 0.94 is a
-- half-life of about 11.2 observations.
CREATE FUNCTION @extschema@.ewma_decay(half_life pg_catalog.numeric)
RETURNS pg_catalog.numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF half_life <= 0 OR half_life = 'NaN' OR half_life = 'Infinity' THEN
        RAISE EXCEPTION 'half_life must be greater than zero and finite'
            USING ERRCODE = '22023', DETAIL = format('half_life is %s.', half_life);
    END IF;
    RETURN round(power(0.5::numeric, 1::numeric / half_life), 16);
END
$fn$;

-- Internal: ceil(num / den) for num >= 0, den > 0, exactly (div truncates).
CREATE FUNCTION @extschema@._ceil_div(num pg_catalog.numeric, den pg_catalog.numeric)
RETURNS pg_catalog.numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pg_catalog.div(num, den) OPERATOR(pg_catalog.+)
       CASE WHEN pg_catalog.div(num, den) OPERATOR(pg_catalog.*) den OPERATOR(pg_catalog.<) num
            THEN 1::pg_catalog.numeric ELSE 0::pg_catalog.numeric END;

-- One EWMA step over the squared simple return of a mark move:
--   v' = decay*v + (1 - decay) * ((price - previous_price) / previous_price)^2
-- computed as one exact fraction and rounded up to 24 decimals.  With no
-- variance yet (NULL) the first squared return seeds it: v' = r^2, rounded up.
CREATE FUNCTION @extschema@.ewma_variance(
    variance pg_catalog.numeric, previous_price pg_catalog.numeric,
    price pg_catalog.numeric, decay pg_catalog.numeric)
RETURNS pg_catalog.numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    d numeric;
    den numeric;
    num numeric;
BEGIN
    IF previous_price IS NULL OR price IS NULL OR decay IS NULL THEN
        RETURN NULL;
    END IF;
    IF previous_price <= 0 OR price <= 0 OR previous_price = 'Infinity' OR price = 'Infinity'
       OR previous_price = 'NaN' OR price = 'NaN' THEN
        RAISE EXCEPTION 'prices must be greater than zero and finite'
            USING ERRCODE = '22023',
                  DETAIL = format('previous_price is %s and price is %s.', previous_price, price);
    END IF;
    IF NOT (decay >= 0 AND decay < 1) THEN
        RAISE EXCEPTION 'decay must be at least 0 and less than 1'
            USING ERRCODE = '22023', DETAIL = format('decay is %s.', decay);
    END IF;
    IF variance < 0 THEN
        RAISE EXCEPTION 'variance must not be negative'
            USING ERRCODE = '22023', DETAIL = format('variance is %s.', variance);
    END IF;
    d := price - previous_price;
    den := previous_price * previous_price;
    IF variance IS NULL THEN
        num := d * d;
    ELSE
        num := decay * variance * den + (1 - decay) * d * d;
    END IF;
    RETURN @extschema@._ceil_div(num * 1e24, den) * 1e-24;
END
$fn$;

-- sqrt(variance) rounded up to 12 decimals, exactly (an integer square root of
-- ceil(variance * 10^24)).
CREATE FUNCTION @extschema@.ewma_volatility(variance pg_catalog.numeric)
RETURNS pg_catalog.numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    x numeric;
    s numeric;
BEGIN
    IF variance < 0 OR variance = 'NaN' OR variance = 'Infinity' THEN
        RAISE EXCEPTION 'variance must not be negative'
            USING ERRCODE = '22023', DETAIL = format('variance is %s.', variance);
    END IF;
    x := ceil(variance * 1e24);
    s := trunc(sqrt(x));
    -- numeric's sqrt is rounded: correct its truncation to the integer root
    WHILE s * s > x LOOP s := s - 1; END LOOP;
    WHILE (s + 1) * (s + 1) <= x LOOP s := s + 1; END LOOP;
    IF s * s < x THEN
        s := s + 1;
    END IF;
    RETURN s * 1e-12;
END
$fn$;

-- The add-on rate of a volatility: multiplier * (clamp(volatility, floor, cap) - floor),
-- rounded up to 6 decimals.  0 at or below the floor; multiplier * (cap - floor)
-- at or above the cap.
CREATE FUNCTION @extschema@.volatility_addon(
    volatility pg_catalog.numeric, vol_floor pg_catalog.numeric,
    vol_cap pg_catalog.numeric, multiplier pg_catalog.numeric)
RETURNS pg_catalog.numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF NOT (vol_floor >= 0 AND vol_floor <= vol_cap AND vol_cap < 'Infinity') THEN
        RAISE EXCEPTION 'vol_floor and vol_cap must satisfy 0 <= vol_floor <= vol_cap'
            USING ERRCODE = '22023',
                  DETAIL = format('vol_floor is %s and vol_cap is %s.', vol_floor, vol_cap);
    END IF;
    IF NOT (multiplier >= 0 AND multiplier < 'Infinity') THEN
        RAISE EXCEPTION 'multiplier must not be negative'
            USING ERRCODE = '22023', DETAIL = format('multiplier is %s.', multiplier);
    END IF;
    IF NOT (volatility >= 0 AND volatility < 'Infinity') THEN
        RAISE EXCEPTION 'volatility must not be negative'
            USING ERRCODE = '22023', DETAIL = format('volatility is %s.', volatility);
    END IF;
    RETURN ceil(multiplier * (least(vol_cap, greatest(vol_floor, volatility)) - vol_floor) * 1e6)
           * 1e-6;
END
$fn$;

-- Every add-on rate change written to an instruments table, with its cause.
CREATE SEQUENCE @extschema@.addon_changes_id_seq AS pg_catalog.int8;
CREATE TABLE @extschema@.addon_changes (
    id          pg_catalog.int8 NOT NULL
                DEFAULT pg_catalog.nextval('@extschema@.addon_changes_id_seq'::pg_catalog.regclass)
                PRIMARY KEY,
    instruments pg_catalog.regclass NOT NULL,
    symbol      pg_catalog.text NOT NULL,
    old_rate    pg_catalog.numeric,
    new_rate    pg_catalog.numeric,              -- NULL: a liquidity curve changed (cause holds it)
    cause       pg_catalog.jsonb NOT NULL,
    changed_at  pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE @extschema@.addon_changes_id_seq OWNED BY @extschema@.addon_changes.id;
COMMENT ON TABLE @extschema@.addon_changes IS
    'isomargin dynamic requirements: each change of an instrument''s add-on rate or liquidity curve and its cause';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.addon_changes', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.addon_changes_id_seq', '');

-- One row per volatility watch (isomargin.watch_volatility).
CREATE SEQUENCE @extschema@.volatility_watches_id_seq AS pg_catalog.int4;
CREATE TABLE @extschema@.volatility_watches (
    id              pg_catalog.int4 NOT NULL
                    DEFAULT pg_catalog.nextval('@extschema@.volatility_watches_id_seq'::pg_catalog.regclass)
                    PRIMARY KEY,
    history         pg_catalog.regclass NOT NULL UNIQUE,
    symbol_column   pg_catalog.name NOT NULL,
    price_column    pg_catalog.name NOT NULL,
    time_column     pg_catalog.name NOT NULL,
    half_life       pg_catalog.numeric NOT NULL,
    decay           pg_catalog.numeric NOT NULL,
    vol_floor       pg_catalog.numeric NOT NULL,
    vol_cap         pg_catalog.numeric NOT NULL,
    multiplier      pg_catalog.numeric NOT NULL,
    instruments     pg_catalog.regclass,
    instruments_symbol pg_catalog.name,
    addon_column    pg_catalog.name,
    symbol_type     pg_catalog.regtype NOT NULL
);
ALTER SEQUENCE @extschema@.volatility_watches_id_seq OWNED BY @extschema@.volatility_watches.id;
COMMENT ON TABLE @extschema@.volatility_watches IS
    'isomargin dynamic requirements: the mark-history tables watched for volatility, and the add-on rule of each';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.volatility_watches', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.volatility_watches_id_seq', '');

-- The incremental state of each watched instrument: what the next mark needs.
CREATE TABLE @extschema@.volatility_state (
    watch_id     pg_catalog.int4 NOT NULL,        -- volatility_watches.id (unwatch deletes its rows)
    symbol       pg_catalog.text NOT NULL,
    last_price   pg_catalog.numeric NOT NULL,
    last_time    pg_catalog.timestamptz NOT NULL,
    observations pg_catalog.int8 NOT NULL,        -- returns folded in
    variance     pg_catalog.numeric,              -- NULL before the first return
    volatility   pg_catalog.numeric,
    addon_rate   pg_catalog.numeric NOT NULL,
    updated_at   pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (watch_id, symbol)
);
COMMENT ON TABLE @extschema@.volatility_state IS
    'isomargin dynamic requirements: the EWMA state of each watched instrument (its last mark, variance, volatility and add-on rate)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.volatility_state', '');

-- Internal: fold one mark into a watch's state for its symbol; a mark not
-- later than the last one folded is ignored.  When the add-on rate changes and
-- the watch writes to an instruments table, the new rate goes into its add-on
-- column (an enforced instruments table re-prices the instrument's positions)
-- and the change is recorded with its cause.  Returns whether it was folded.
CREATE FUNCTION @extschema@._volatility_fold(
    w @extschema@.volatility_watches, sym pg_catalog.text, price pg_catalog.numeric,
    mark_at pg_catalog.timestamptz)
RETURNS pg_catalog.bool
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    st @extschema@.volatility_state;
    v numeric;
    vol numeric;
    addon numeric;
BEGIN
    IF sym IS NULL OR price IS NULL OR mark_at IS NULL THEN
        RETURN false;
    END IF;
    IF NOT (price > 0 AND price < 'Infinity') THEN
        RAISE EXCEPTION 'the mark of instrument % in % is not a positive finite price', sym, w.history
            USING ERRCODE = '22023', DETAIL = format('The value is %s.', price);
    END IF;
    SELECT * INTO st FROM @extschema@.volatility_state s
     WHERE s.watch_id = w.id AND s.symbol = sym FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO @extschema@.volatility_state
               (watch_id, symbol, last_price, last_time, observations, variance, volatility, addon_rate)
        VALUES (w.id, sym, price, mark_at, 0, NULL, NULL, 0);
        RETURN true;
    END IF;
    IF mark_at <= st.last_time THEN
        RETURN false;
    END IF;
    v := @extschema@.ewma_variance(st.variance, st.last_price, price, w.decay);
    vol := @extschema@.ewma_volatility(v);
    addon := @extschema@.volatility_addon(vol, w.vol_floor, w.vol_cap, w.multiplier);
    UPDATE @extschema@.volatility_state s
       SET last_price = price, last_time = mark_at, observations = st.observations + 1,
           variance = v, volatility = vol, addon_rate = addon, updated_at = now()
     WHERE s.watch_id = w.id AND s.symbol = sym;
    IF addon IS DISTINCT FROM st.addon_rate AND w.instruments IS NOT NULL THEN
        EXECUTE format('UPDATE %s SET %I = $1 WHERE %I = CAST($2 AS %s)',
                       w.instruments, w.addon_column, w.instruments_symbol, w.symbol_type)
          USING addon, sym;
        INSERT INTO @extschema@.addon_changes (instruments, symbol, old_rate, new_rate, cause)
        VALUES (w.instruments, sym, st.addon_rate, addon,
                jsonb_build_object('source', 'volatility', 'watch', w.id,
                                   'history', w.history::text, 'mark_time', mark_at,
                                   'mark_price', price, 'volatility', vol,
                                   'observations', st.observations + 1));
    END IF;
    RETURN true;
END
$fn$;

-- The statement triggers on a watched table: fold the statement's new rows
-- (inserted, or updated in place as a marks table of one row per symbol is),
-- per symbol in mark_time order.  Argument: the watch id.
CREATE FUNCTION @extschema@.volatility_trigger()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    w @extschema@.volatility_watches;
    r record;
BEGIN
    IF TG_LEVEL <> 'STATEMENT' OR TG_WHEN <> 'AFTER' OR TG_OP NOT IN ('INSERT', 'UPDATE')
       OR TG_NARGS <> 1 THEN
        RAISE EXCEPTION 'isomargin.volatility_trigger must be an AFTER INSERT or UPDATE statement trigger with the watch id'
            USING ERRCODE = '39P01';
    END IF;
    SELECT * INTO w FROM @extschema@.volatility_watches x
     WHERE x.id = TG_ARGV[0]::int4 AND x.history = TG_RELID;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table % has no volatility watch %', TG_RELID::regclass, TG_ARGV[0]
            USING ERRCODE = '39P01';
    END IF;
    FOR r IN EXECUTE format(
        'SELECT CAST(n.%1$I AS pg_catalog.text) AS sym, CAST(n.%2$I AS pg_catalog.numeric) AS price,
                n.%3$I AS mark_at
           FROM isomargin_new_marks n
          WHERE n.%1$I IS NOT NULL AND n.%3$I IS NOT NULL
          ORDER BY 1, 3', w.symbol_column, w.price_column, w.time_column)
    LOOP
        PERFORM @extschema@._volatility_fold(w, r.sym, r.price, r.mark_at);
    END LOOP;
    RETURN NULL;
END
$fn$;

-- Watches a table of marks over time for volatility (doc/dynamic.md):
-- columns maps symbol, mark_price, mark_time (the history's), and
-- instruments.symbol and addon_rate (the instruments table's, when given;
-- conventional names: symbol, addon_rate).
-- Folds the existing rows once, then keeps the state current with statement
-- triggers on INSERT and UPDATE (a history appended to, or a marks table
-- updated in place).  Returns the watch id.
CREATE FUNCTION @extschema@.watch_volatility(
    history pg_catalog.regclass,
    half_life pg_catalog.numeric, vol_floor pg_catalog.numeric,
    vol_cap pg_catalog.numeric, multiplier pg_catalog.numeric,
    instruments pg_catalog.regclass DEFAULT NULL,
    columns pg_catalog.jsonb DEFAULT '{}')
RETURNS pg_catalog.int4
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    w @extschema@.volatility_watches;
    k text;
    r record;
    sym_type regtype;
    ins_type regtype;
    known text[] := ARRAY['symbol', 'mark_price', 'mark_time', 'instruments.symbol', 'addon_rate'];
BEGIN
    IF history IS NULL OR half_life IS NULL OR vol_floor IS NULL OR vol_cap IS NULL
       OR multiplier IS NULL OR columns IS NULL THEN
        RAISE EXCEPTION 'history, half_life, vol_floor, vol_cap, multiplier and columns must not be null'
            USING ERRCODE = '22023';
    END IF;
    IF jsonb_typeof(columns) <> 'object' THEN
        RAISE EXCEPTION 'columns must be a JSON object' USING ERRCODE = '22023';
    END IF;
    FOR k IN SELECT jsonb_object_keys(columns) LOOP
        IF NOT k = ANY (known) OR jsonb_typeof(columns -> k) <> 'string' THEN
            RAISE EXCEPTION 'unknown key "%" in columns, or not a column name', k
                USING ERRCODE = '22023', DETAIL = 'Known keys: ' || array_to_string(known, ', ') || '.';
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = history AND c.relkind IN ('r', 'p')) THEN
        RAISE EXCEPTION '% is not a table', history USING ERRCODE = '22023';
    END IF;
    w.history := history;
    w.symbol_column := coalesce(columns ->> 'symbol', 'symbol');
    w.price_column := coalesce(columns ->> 'mark_price', 'mark_price');
    w.time_column := coalesce(columns ->> 'mark_time', 'mark_time');
    FOREACH k IN ARRAY ARRAY[w.symbol_column, w.price_column, w.time_column] LOOP
        IF NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = history AND a.attname = k
                        AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column "%" of table % does not exist', k, history
                USING ERRCODE = '22023';
        END IF;
    END LOOP;
    SELECT a.atttypid::regtype INTO sym_type FROM pg_attribute a
     WHERE a.attrelid = history AND a.attname = w.symbol_column;
    IF (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = history AND a.attname = w.price_column)
       NOT IN ('numeric'::regtype, 'int8'::regtype, 'int4'::regtype, 'int2'::regtype) THEN
        RAISE EXCEPTION 'column "%" of table % must be numeric', w.price_column, history
            USING ERRCODE = '22023';
    END IF;
    IF (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = history AND a.attname = w.time_column)
       NOT IN ('timestamptz'::regtype, 'timestamp'::regtype) THEN
        RAISE EXCEPTION 'column "%" of table % must be a timestamp', w.time_column, history
            USING ERRCODE = '22023';
    END IF;
    w.half_life := half_life;
    w.decay := @extschema@.ewma_decay(half_life);
    PERFORM @extschema@.volatility_addon(0, vol_floor, vol_cap, multiplier);  -- checks the rule
    w.vol_floor := vol_floor;
    w.vol_cap := vol_cap;
    w.multiplier := multiplier;
    w.symbol_type := sym_type;
    IF instruments IS NOT NULL THEN
        w.instruments := instruments;
        w.instruments_symbol := coalesce(columns ->> 'instruments.symbol', 'symbol');
        w.addon_column := coalesce(columns ->> 'addon_rate', 'addon_rate');
        SELECT a.atttypid::regtype INTO ins_type FROM pg_attribute a
         WHERE a.attrelid = instruments AND a.attname = w.instruments_symbol
           AND a.attnum > 0 AND NOT a.attisdropped;
        IF ins_type IS NULL THEN
            RAISE EXCEPTION 'column "%" of table % does not exist', w.instruments_symbol, instruments
                USING ERRCODE = '22023';
        END IF;
        IF NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = instruments
                        AND a.attname = w.addon_column AND a.atttypid = 'numeric'::regtype
                        AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column "%" of table % must exist and be numeric', w.addon_column, instruments
                USING ERRCODE = '22023';
        END IF;
        w.symbol_type := ins_type;
    ELSIF columns ? 'addon_rate' OR columns ? 'instruments.symbol' THEN
        RAISE EXCEPTION 'columns maps an instruments column but instruments is null'
            USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT FROM @extschema@.volatility_watches x WHERE x.history = watch_volatility.history) THEN
        RAISE EXCEPTION 'table % is already watched', history USING ERRCODE = '22023';
    END IF;
    w.id := nextval('@extschema@.volatility_watches_id_seq');
    INSERT INTO @extschema@.volatility_watches SELECT w.*;
    -- the history so far, once, in order
    FOR r IN EXECUTE format(
        'SELECT CAST(h.%1$I AS pg_catalog.text) AS sym, CAST(h.%2$I AS pg_catalog.numeric) AS price,
                h.%3$I AS mark_at
           FROM %4$s h
          WHERE h.%1$I IS NOT NULL AND h.%3$I IS NOT NULL
          ORDER BY 1, 3', w.symbol_column, w.price_column, w.time_column, history)
    LOOP
        PERFORM @extschema@._volatility_fold(w, r.sym, r.price, r.mark_at);
    END LOOP;
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS isomargin_new_marks
                    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.volatility_trigger(%L)',
                   'isomargin_volatility_' || w.id || '_insert', history, w.id);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s REFERENCING NEW TABLE AS isomargin_new_marks
                    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.volatility_trigger(%L)',
                   'isomargin_volatility_' || w.id || '_update', history, w.id);
    RETURN w.id;
END
$fn$;

-- Stops a watch: drops its triggers and forgets its state.  The add-on rates it
-- wrote stay in the instruments table.
CREATE FUNCTION @extschema@.unwatch_volatility(history pg_catalog.regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    wid int4;
BEGIN
    DELETE FROM @extschema@.volatility_watches x WHERE x.history = unwatch_volatility.history
    RETURNING x.id INTO wid;
    IF wid IS NULL THEN
        RAISE EXCEPTION 'table % is not watched', history USING ERRCODE = '22023';
    END IF;
    DELETE FROM @extschema@.volatility_state s WHERE s.watch_id = wid;
    EXECUTE format('DROP TRIGGER %I ON %s', 'isomargin_volatility_' || wid || '_insert', history);
    EXECUTE format('DROP TRIGGER %I ON %s', 'isomargin_volatility_' || wid || '_update', history);
END
$fn$;
-- Dynamic requirements, part 2: a liquidity add-on per position, the cost of
-- closing its size against an order-book snapshot, as a rate of its notional
-- at the mark (doc/dynamic.md).  Exact but for the documented roundings: an
-- inverse level's slippage rounded up to 20 decimals, the rate up to 6.

-- The add-on rate of closing `size` contracts at mark_price against the levels
-- of the side the close trades with (bids for a long, asks for a short; any
-- order: walked best first, the highest bid or the lowest ask).  Each level
-- fills up to its size; its slippage against the mark is
--   linear: side*(P - p) per unit of base (never below 0),
--   inverse: side*(P - p)/p per unit of coin notional, rounded up to 20 decimals;
-- what the book cannot fill pays the worst level's slippage plus penalty_rate
-- (of the mark, linear; of the notional, inverse).  The rate is the cost over
-- the notional at the mark, |q|*cs*P (linear) or |q|*cs/P (inverse), rounded up
-- to 6 decimals; contract_size cancels out.  0 for a zero size.
CREATE FUNCTION @extschema@.liquidity_addon(
    size pg_catalog.numeric, mark_price pg_catalog.numeric,
    level_prices pg_catalog.numeric[], level_sizes pg_catalog.numeric[],
    penalty_rate pg_catalog.numeric,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS pg_catalog.numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    side int := sign(size)::int;
    qty numeric := abs(size);
    inv boolean := kind = 'inverse';
    num numeric;
    worst numeric;
    depth numeric;
BEGIN
    IF NOT (mark_price > 0 AND mark_price < 'Infinity') THEN
        RAISE EXCEPTION 'mark_price must be greater than zero'
            USING ERRCODE = '22023', DETAIL = format('mark_price is %s.', mark_price);
    END IF;
    IF NOT (penalty_rate >= 0 AND penalty_rate < 'Infinity') THEN
        RAISE EXCEPTION 'penalty_rate must not be negative'
            USING ERRCODE = '22023', DETAIL = format('penalty_rate is %s.', penalty_rate);
    END IF;
    IF size = 'NaN' OR abs(size) = 'Infinity' THEN
        RAISE EXCEPTION 'size must be a finite number' USING ERRCODE = '22023';
    END IF;
    IF cardinality(level_prices) <> cardinality(level_sizes) THEN
        RAISE EXCEPTION 'level_prices and level_sizes must have the same length'
            USING ERRCODE = '22023',
                  DETAIL = format('They have %s and %s elements.',
                                  cardinality(level_prices), cardinality(level_sizes));
    END IF;
    IF EXISTS (SELECT FROM unnest(level_prices, level_sizes) AS l(p, s)
                WHERE p IS NULL OR s IS NULL OR NOT (p > 0 AND p < 'Infinity')
                   OR NOT (s >= 0 AND s < 'Infinity')) THEN
        RAISE EXCEPTION 'a book level must have a price greater than zero and a size of at least zero'
            USING ERRCODE = '22023';
    END IF;
    IF side = 0 THEN
        RETURN 0.000000;
    END IF;
    WITH lv AS (
        SELECT CASE WHEN inv
                    THEN @extschema@._ceil_div(greatest(side * (mark_price - l.p), 0) * 1e20, l.p) * 1e-20
                    ELSE greatest(side * (mark_price - l.p), 0) END AS slip,
               l.s,
               coalesce(sum(l.s) OVER (ORDER BY side * l.p DESC, l.ord
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
               row_number() OVER (ORDER BY side * l.p ASC, l.ord DESC) AS from_worst
          FROM unnest(level_prices, level_sizes) WITH ORDINALITY AS l(p, s, ord))
    SELECT coalesce(sum(lv.slip * least(lv.s, greatest(qty - lv.before, 0))), 0),
           coalesce(max(lv.slip) FILTER (WHERE lv.from_worst = 1), 0),
           coalesce(sum(lv.s), 0)
      INTO num, worst, depth
      FROM lv;
    IF qty > depth THEN
        num := num + (qty - depth) * (worst + CASE WHEN inv THEN penalty_rate
                                                  ELSE penalty_rate * mark_price END);
    END IF;
    RETURN @extschema@._ceil_div(num * 1e6, CASE WHEN inv THEN qty ELSE qty * mark_price END) * 1e-6;
END
$fn$;

-- Every position's liquidity add-on against a book snapshot table, one row per
-- position: the position key (as enforcement's events name it), its symbol as
-- text, its size and its rate.  The book has one row per level: symbol, side
-- ('bid' or 'ask', text), price, size (contracts); columns maps other names
-- ("book.symbol", "book.side", "book.price", "book.size") and the positions'
-- and marks' (symbol, size, mark_price).  Instruments give the kind (optional
-- column kind).  Positions of a symbol without a mark are left out.
CREATE FUNCTION @extschema@.liquidity_addons(
    positions pg_catalog.regclass, marks pg_catalog.regclass,
    instruments pg_catalog.regclass, book pg_catalog.regclass,
    penalty_rate pg_catalog.numeric, columns pg_catalog.jsonb DEFAULT '{}')
RETURNS TABLE (position_key pg_catalog.jsonb, symbol pg_catalog.text,
               size pg_catalog.numeric, addon_rate pg_catalog.numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    b_sym text := quote_ident(coalesce(columns ->> 'book.symbol', 'symbol'));
    b_side text := quote_ident(coalesce(columns ->> 'book.side', 'side'));
    b_price text := quote_ident(coalesce(columns ->> 'book.price', 'price'));
    b_size text := quote_ident(coalesce(columns ->> 'book.size', 'size'));
    src record;
BEGIN
    SELECT * INTO src FROM @extschema@._report_book(positions, marks, instruments,
                                                     columns - ARRAY['book.symbol', 'book.side',
                                                                     'book.price', 'book.size']);
    RETURN QUERY EXECUTE format(
        'WITH b AS (
             SELECT CAST(x.%2$s AS pg_catalog.text) AS symbol,
                    pg_catalog.array_agg(CAST(x.%4$s AS pg_catalog.numeric)) FILTER (WHERE x.%3$s = ''bid'') AS bid_p,
                    pg_catalog.array_agg(CAST(x.%5$s AS pg_catalog.numeric)) FILTER (WHERE x.%3$s = ''bid'') AS bid_s,
                    pg_catalog.array_agg(CAST(x.%4$s AS pg_catalog.numeric)) FILTER (WHERE x.%3$s = ''ask'') AS ask_p,
                    pg_catalog.array_agg(CAST(x.%5$s AS pg_catalog.numeric)) FILTER (WHERE x.%3$s = ''ask'') AS ask_s
               FROM %1$s x GROUP BY 1)
         SELECT k.position_key, CAST(k.symbol AS pg_catalog.text), k.size,
                @extschema@.liquidity_addon(k.size, k.mark_price,
                    CASE WHEN k.size OPERATOR(pg_catalog.>) 0 THEN COALESCE(b.bid_p, ''{}'') ELSE COALESCE(b.ask_p, ''{}'') END,
                    CASE WHEN k.size OPERATOR(pg_catalog.>) 0 THEN COALESCE(b.bid_s, ''{}'') ELSE COALESCE(b.ask_s, ''{}'') END,
                    $1, k.kind)
           FROM (%6$s) k
           LEFT JOIN b ON b.symbol OPERATOR(pg_catalog.=) CAST(k.symbol AS pg_catalog.text)
          WHERE k.mark_price IS NOT NULL
          ORDER BY 2, 1',
        book, b_sym, b_side, b_price, b_size, src.book_sql)
      USING penalty_rate;
END
$fn$;
-- Dynamic requirements, part 3: the figures of a position whose requirement
-- carries an add-on rate c >= 0 (src/dynamic.c; doc/dynamic.md): every
-- bracket's r_i + f becomes r_i + f + c, the maintenance amounts unchanged, so
-- MM(P) = N(P)*(r_i + f + c) - A_i and the liquidation and margin-call prices
-- are the same exact solved equations; the initial rate 1/L becomes 1/L + c.
-- The add-on is typically volatility_addon of the instrument plus
-- liquidity_addon of the position.  Each figure has a flat mmr form and a
-- tiers form (one C function, which reads the rule by the declared type).

CREATE FUNCTION @extschema@.dynamic_initial_margin(
    size numeric, price numeric, leverage numeric, addon_rate numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
AS 'MODULE_PATHNAME', 'dynamic_initial_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.dynamic_maintenance_margin(
    size numeric, mark_price numeric, addon_rate numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'dynamic_maintenance_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.dynamic_margin_status(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    addon_rate numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8)
RETURNS @extschema@.margin_status
AS 'MODULE_PATHNAME', 'dynamic_margin_status'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.dynamic_liquidation_price(
    size numeric, entry_price numeric, margin numeric, addon_rate numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'dynamic_liquidation_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.dynamic_margin_call_price(
    size numeric, entry_price numeric, margin numeric, addon_rate numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'dynamic_margin_call_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.dynamic_maintenance_margin(
    size numeric, mark_price numeric, addon_rate numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'dynamic_maintenance_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.dynamic_margin_status(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    addon_rate numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8)
RETURNS @extschema@.margin_status
AS 'MODULE_PATHNAME', 'dynamic_margin_status'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.dynamic_liquidation_price(
    size numeric, entry_price numeric, margin numeric, addon_rate numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'dynamic_liquidation_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.dynamic_margin_call_price(
    size numeric, entry_price numeric, margin numeric, addon_rate numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'dynamic_margin_call_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- Dynamic requirements, part 4: a backtest of a maintenance rule over a mark
-- path and order-book snapshots (doc/dynamic.md).  Which positions a rule
-- would have liquidated, when, at which mark and add-on, and the shortfall
-- beyond bankruptcy of closing each against the book.  A parameter sweep is
-- one query: rules from generate_series, CROSS JOIN LATERAL backtest(...).

-- rule: {"name": text, "mmr": n | "tiers": "<isomargin.tiers text>",
--        "fee_rate": n (default 0),
--        "volatility": {"half_life": n, "floor": n, "cap": n, "multiplier": n} (optional),
--        "liquidity": true (optional: charge the position's liquidity add-on)}
-- mark_path: one row per mark (symbol, mark_price, mark_time), in the names of
-- `columns` like isomargin.shock's marks (mark_time required).  books: one row per
-- level (symbol, side 'bid'|'ask', price, size, snapshot_time), names mapped by
-- "book.symbol", "book.side", "book.price", "book.size", "book.snapshot_time";
-- NULL for none.  At each mark, in mark_time order: the instrument's EWMA
-- (as watch_volatility folds it) gives its volatility add-on; the latest
-- snapshot at or before the mark gives each position's liquidity add-on,
-- computed at the mark of the first step that sees the snapshot (penalty_rate
-- beyond the book's depth) and kept until the next snapshot; a position whose
-- dynamic_margin_status is liquidate or bankrupt is liquidated there, closed at
-- the mark against the book: shortfall = max(0, liquidity cost - equity), the
-- cost being the liquidity add-on times the notional (whatever the rule
-- charges).  Positions are read as isomargin.shock reads them (their stored
-- status, when there is one, must be below liquidate).
CREATE FUNCTION @extschema@.backtest(
    positions pg_catalog.regclass, instruments pg_catalog.regclass,
    mark_path pg_catalog.regclass, books pg_catalog.regclass,
    rule pg_catalog.jsonb,
    penalty_rate pg_catalog.numeric DEFAULT 0.01,
    columns pg_catalog.jsonb DEFAULT '{}')
RETURNS TABLE (
    rule_name     text,
    position_key  jsonb,
    symbol        text,
    liquidated_at timestamptz,
    mark_price    numeric,
    addon_rate    numeric,
    status        @extschema@.margin_status,
    equity        numeric,
    shortfall     numeric)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    cols jsonb := coalesce(columns, '{}') - ARRAY['book.symbol', 'book.side', 'book.price',
                                                   'book.size', 'book.snapshot_time'];
    b_sym text := quote_ident(coalesce(columns ->> 'book.symbol', 'symbol'));
    b_side text := quote_ident(coalesce(columns ->> 'book.side', 'side'));
    b_price text := quote_ident(coalesce(columns ->> 'book.price', 'price'));
    b_size text := quote_ident(coalesce(columns ->> 'book.size', 'size'));
    b_time text := quote_ident(coalesce(columns ->> 'book.snapshot_time', 'snapshot_time'));
    m_sym text := quote_ident(coalesce(columns ->> 'marks.symbol', columns ->> 'symbol', 'symbol'));
    m_mark text := quote_ident(coalesce(columns ->> 'mark_price', 'mark_price'));
    m_time text := quote_ident(coalesce(columns ->> 'mark_time', 'mark_time'));
    rname text := coalesce(rule ->> 'name', rule::text);
    risk_arg text;
    risk text;
    fee numeric := coalesce((rule ->> 'fee_rate')::numeric, 0);
    vol jsonb := rule -> 'volatility';
    decay numeric;
    with_liq boolean := coalesce((rule ->> 'liquidity')::boolean, false);
    src record;
    st record;
    vs record;
    snap timestamptz;
    vaddon numeric;
    check_sql text;
BEGIN
    IF positions IS NULL OR instruments IS NULL OR mark_path IS NULL OR rule IS NULL
       OR penalty_rate IS NULL THEN
        RAISE EXCEPTION 'positions, instruments, mark_path, rule and penalty_rate must not be null'
            USING ERRCODE = '22023';
    END IF;
    IF jsonb_typeof(rule) <> 'object' OR (rule ? 'mmr') = (rule ? 'tiers') THEN
        RAISE EXCEPTION 'rule must be a JSON object with either mmr or tiers'
            USING ERRCODE = '22023', DETAIL = format('rule is %s.', rule);
    END IF;
    IF with_liq AND books IS NULL THEN
        RAISE EXCEPTION 'a rule with liquidity needs books' USING ERRCODE = '22023';
    END IF;
    IF rule ? 'mmr' THEN
        risk_arg := 'mmr => CAST($7 AS pg_catalog.numeric)';
        risk := rule ->> 'mmr';
    ELSE
        risk_arg := 'tiers => CAST($7 AS @extschema@.tiers)';
        risk := rule ->> 'tiers';
    END IF;
    IF vol IS NOT NULL THEN
        decay := @extschema@.ewma_decay((vol ->> 'half_life')::numeric);
        PERFORM @extschema@.volatility_addon(0, (vol ->> 'floor')::numeric,
                                             (vol ->> 'cap')::numeric, (vol ->> 'multiplier')::numeric);
    END IF;
    IF NOT cols ? 'mark_time' THEN
        cols := cols || jsonb_build_object('mark_time', 'mark_time');
    END IF;
    src := @extschema@._report_book(positions, mark_path, instruments, cols);

    -- the working tables of the previous call, if any (a sweep calls this once per rule)
    IF to_regclass('pg_temp.isomargin_bt_live') IS NOT NULL THEN
        DROP TABLE pg_temp.isomargin_bt_live, pg_temp.isomargin_bt_out, pg_temp.isomargin_bt_vol;
    END IF;
    EXECUTE format('CREATE TEMP TABLE isomargin_bt_live AS
                    SELECT b.position_key, CAST(b.symbol AS pg_catalog.text) AS sym, b.size,
                           b.entry_price, b.margin, b.kind, b.contract_size,
                           CAST(0 AS pg_catalog.numeric) AS liq
                      FROM (%s) b WHERE b.size OPERATOR(pg_catalog.<>) 0', src.book_sql);
    CREATE TEMP TABLE isomargin_bt_out (
        rule_name text, position_key jsonb, symbol text, liquidated_at timestamptz,
        mark_price numeric, addon_rate numeric, status @extschema@.margin_status,
        equity numeric, shortfall numeric);
    CREATE TEMP TABLE isomargin_bt_vol (sym text PRIMARY KEY, last_price numeric,
                                        variance numeric, addon numeric, snap timestamptz);

    check_sql := format(
        'WITH hit AS (
             DELETE FROM isomargin_bt_live l
              WHERE l.sym OPERATOR(pg_catalog.=) $1
                AND @extschema@.dynamic_margin_status(l.size, l.entry_price, $2, l.margin,
                        $3 OPERATOR(pg_catalog.+) CASE WHEN $4 THEN l.liq ELSE 0 END, %1$s,
                        contract_size => l.contract_size, kind => l.kind, fee_rate => $5)
                    OPERATOR(pg_catalog.>=) CAST(''liquidate'' AS @extschema@.margin_status)
             RETURNING l.*)
         INSERT INTO isomargin_bt_out
         SELECT $6, h.position_key, h.sym, $8, $2,
                $3 OPERATOR(pg_catalog.+) CASE WHEN $4 THEN h.liq ELSE 0 END,
                @extschema@.dynamic_margin_status(h.size, h.entry_price, $2, h.margin,
                        $3 OPERATOR(pg_catalog.+) CASE WHEN $4 THEN h.liq ELSE 0 END, %1$s,
                        contract_size => h.contract_size, kind => h.kind, fee_rate => $5),
                e.equity,
                GREATEST(CAST(0 AS pg_catalog.numeric),
                    h.liq OPERATOR(pg_catalog.*) @extschema@.notional(h.size, $2, h.contract_size, h.kind)
                    OPERATOR(pg_catalog.-) e.equity)
           FROM hit h
           CROSS JOIN LATERAL (SELECT @extschema@.equity(h.size, h.entry_price, $2, h.margin,
                                                         h.contract_size, h.kind) AS equity) e',
        risk_arg);

    FOR st IN EXECUTE format(
        'SELECT CAST(m.%1$s AS pg_catalog.text) AS sym, CAST(m.%2$s AS pg_catalog.numeric) AS px,
                m.%3$s AS at
           FROM %4$s m
          WHERE m.%1$s IS NOT NULL AND m.%2$s IS NOT NULL AND m.%3$s IS NOT NULL
          ORDER BY 3, 1', m_sym, m_mark, m_time, mark_path)
    LOOP
        SELECT * INTO vs FROM isomargin_bt_vol v WHERE v.sym = st.sym;
        IF NOT FOUND THEN
            INSERT INTO isomargin_bt_vol VALUES (st.sym, st.px, NULL, 0, NULL);
            vaddon := 0;
            snap := NULL;
        ELSE
            vaddon := vs.addon;
            snap := vs.snap;
            IF vol IS NOT NULL THEN
                vs.variance := @extschema@.ewma_variance(vs.variance, vs.last_price, st.px, decay);
                vaddon := @extschema@.volatility_addon(@extschema@.ewma_volatility(vs.variance),
                                                       (vol ->> 'floor')::numeric,
                                                       (vol ->> 'cap')::numeric,
                                                       (vol ->> 'multiplier')::numeric);
            END IF;
            UPDATE isomargin_bt_vol v SET last_price = st.px, variance = vs.variance, addon = vaddon
             WHERE v.sym = st.sym;
        END IF;
        IF books IS NOT NULL THEN
            EXECUTE format('SELECT pg_catalog.max(b.%1$s) FROM %2$s b
                             WHERE CAST(b.%3$s AS pg_catalog.text) OPERATOR(pg_catalog.=) $1
                               AND b.%1$s OPERATOR(pg_catalog.<=) $2', b_time, books, b_sym)
              INTO vs.snap USING st.sym, st.at;
            IF vs.snap IS DISTINCT FROM snap THEN
                -- a new snapshot: every live position's liquidity add-on at this mark
                EXECUTE format(
                    'UPDATE isomargin_bt_live l
                        SET liq = @extschema@.liquidity_addon(l.size, $2,
                                      CASE WHEN l.size OPERATOR(pg_catalog.>) 0 THEN k.bid_p ELSE k.ask_p END,
                                      CASE WHEN l.size OPERATOR(pg_catalog.>) 0 THEN k.bid_s ELSE k.ask_s END,
                                      $4, l.kind)
                       FROM (SELECT COALESCE(pg_catalog.array_agg(CAST(b.%1$s AS pg_catalog.numeric)) FILTER (WHERE b.%2$s = ''bid''), ''{}'') AS bid_p,
                                    COALESCE(pg_catalog.array_agg(CAST(b.%3$s AS pg_catalog.numeric)) FILTER (WHERE b.%2$s = ''bid''), ''{}'') AS bid_s,
                                    COALESCE(pg_catalog.array_agg(CAST(b.%1$s AS pg_catalog.numeric)) FILTER (WHERE b.%2$s = ''ask''), ''{}'') AS ask_p,
                                    COALESCE(pg_catalog.array_agg(CAST(b.%3$s AS pg_catalog.numeric)) FILTER (WHERE b.%2$s = ''ask''), ''{}'') AS ask_s
                               FROM %4$s b
                              WHERE CAST(b.%5$s AS pg_catalog.text) OPERATOR(pg_catalog.=) $1
                                AND b.%6$s IS NOT DISTINCT FROM $3) k
                      WHERE l.sym OPERATOR(pg_catalog.=) $1',
                    b_price, b_side, b_size, books, b_sym, b_time)
                  USING st.sym, st.px, vs.snap, penalty_rate;
                UPDATE isomargin_bt_vol v SET snap = vs.snap WHERE v.sym = st.sym;
            END IF;
        END IF;
        EXECUTE check_sql USING st.sym, st.px, vaddon, with_liq, fee, rname, risk, st.at;
    END LOOP;
    RETURN QUERY SELECT o.* FROM isomargin_bt_out o ORDER BY o.liquidated_at, o.symbol, o.position_key;
END
$fn$;

-- ---- verify and the trigger-order guard (issue 19 item 3) ----
-- Verifying an enforced table and guarding the positions trigger's order (issue 19 item 3):
-- install/35_verify.sql, the same statements.
-- One row per position whose stored prices or status differ from the exact
-- figures at the state table's mark, or whose inputs enforcement refuses.
-- The query runs as the positions owner in a security-restricted operation
-- (run_as_owner): the caller must own the positions table, and code that
-- owner wrote never runs with more rights than the owner's.
CREATE FUNCTION @extschema@.verify(positions pg_catalog.regclass,
                                   repair pg_catalog.bool DEFAULT false)
RETURNS TABLE (
    position_key pg_catalog.jsonb,
    symbol       pg_catalog.text,
    mark_price   pg_catalog.numeric,
    columns      pg_catalog.text[],
    stored       pg_catalog.jsonb,
    expected     pg_catalog.jsonb,
    repaired     pg_catalog.bool)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    e        record;
    c        jsonb;
    key_expr text;
    risk_arg text;
    rate     text;
    fig      text := '';
    ext_cols text;
    ext_args text;
    bad_q  text;
    bad      jsonb;
    done     jsonb := '[]';
BEGIN
    SELECT x.* INTO e FROM @extschema@.enforcement x WHERE x.positions = verify.positions;
    IF NOT FOUND OR verify.repair IS NULL THEN
        IF verify.repair IS NULL THEN
            RAISE EXCEPTION 'repair must not be null' USING ERRCODE = '22023';
        END IF;
        RAISE EXCEPTION 'table "%" is not enforced', verify.positions
            USING ERRCODE = '22023';
    END IF;
    c := e.columns;
    SELECT string_agg(format('%L, p.%I', a.attname, a.attname), ', ' ORDER BY ik.ord) INTO key_expr
      FROM pg_index x
      CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS ik(attnum, ord)
      JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = ik.attnum
     WHERE x.indrelid = verify.positions AND x.indisprimary
       AND ik.ord <= x.indnkeyatts;
    key_expr := format('pg_catalog.jsonb_build_object(%s)', key_expr);
    IF c #>> '{instruments,rate_kind}' = 'tiers' THEN
        risk_arg := 'tiers => ';
        rate := format('i.%I', c #>> '{instruments,rate}');
    ELSE
        risk_arg := 'mmr => ';
        rate := format('CAST(i.%I AS pg_catalog.numeric)', c #>> '{instruments,rate}');
    END IF;
    -- What enforcement adds to the rule (src/enforce_compute.c): the dynamic
    -- add-on (the dynamic_* figures) or the venue conventions (the figures'
    -- named arguments: an absent column or a NULL takes the default; with
    -- mmr tier_basis and bracket_basis change nothing, with tiers
    -- maintenance_amount is not read).  No figure function takes both.
    IF c #>> '{instruments,addon_rate}' IS NOT NULL OR c #>> '{instruments,liquidity_curve}' IS NOT NULL THEN
        IF c #>> '{instruments,mm_basis}' IS NOT NULL OR c #>> '{instruments,fee_basis}' IS NOT NULL
           OR c #>> '{instruments,tier_basis}' IS NOT NULL
           OR c #>> '{instruments,bracket_basis}' IS NOT NULL
           OR c #>> '{instruments,maintenance_amount}' IS NOT NULL THEN
            RAISE EXCEPTION 'verify does not support an attachment that maps both addon_rate and a venue convention'
                USING ERRCODE = '0A000',
                      DETAIL = format('Table "%s" is enforced with an add-on rate and venue conventions; no figure function computes both.',
                                      verify.positions);
        END IF;
        fig := 'dynamic_';
        -- the instrument's add-on plus, with a liquidity curve, the position's
        -- liquidity add-on by its size (NULL curve: none; a bad size: y says so)
        ext_cols := format(', %s OPERATOR(pg_catalog.+) %s AS addon',
                           CASE WHEN c #>> '{instruments,addon_rate}' IS NULL THEN 'CAST(0 AS pg_catalog.numeric)'
                                ELSE format('CAST(i.%I AS pg_catalog.numeric)', c #>> '{instruments,addon_rate}') END,
                           CASE WHEN c #>> '{instruments,liquidity_curve}' IS NULL THEN 'CAST(0 AS pg_catalog.numeric)'
                                ELSE format('COALESCE(CASE WHEN CAST(p.%2$I AS pg_catalog.numeric) OPERATOR(pg_catalog.>) ''-Infinity''
                                                            AND CAST(p.%2$I AS pg_catalog.numeric) OPERATOR(pg_catalog.<) ''Infinity''
                                                           THEN @extschema@.liquidity_curve_addon(i.%1$I, CAST(p.%2$I AS pg_catalog.numeric)) END, 0)',
                                            c #>> '{instruments,liquidity_curve}', c #>> '{positions,size}') END);
        ext_args := ', addon_rate => x.addon';
    ELSE
        ext_cols := format(', COALESCE(%s, ''mark'') AS mb, COALESCE(%s, ''mark'') AS fb',
                           coalesce('i.' || quote_ident(c #>> '{instruments,mm_basis}'),
                                    'CAST(NULL AS @extschema@.mm_basis)'),
                           coalesce('i.' || quote_ident(c #>> '{instruments,fee_basis}'),
                                    'CAST(NULL AS @extschema@.fee_basis)'));
        ext_args := ', mm_basis => x.mb, fee_basis => x.fb';
        IF c #>> '{instruments,rate_kind}' = 'tiers' THEN
            ext_cols := ext_cols || format(', COALESCE(%s, ''notional'') AS tb, COALESCE(%s, ''price'') AS bb',
                           coalesce('i.' || quote_ident(c #>> '{instruments,tier_basis}'),
                                    'CAST(NULL AS @extschema@.tier_basis)'),
                           coalesce('i.' || quote_ident(c #>> '{instruments,bracket_basis}'),
                                    'CAST(NULL AS @extschema@.bracket_basis)'));
            ext_args := ext_args || ', tier_basis => x.tb, bracket_basis => x.bb';
        ELSE
            ext_cols := ext_cols || format(', COALESCE(%s, 0) AS ma',
                           coalesce('CAST(i.' || quote_ident(c #>> '{instruments,maintenance_amount}')
                                    || ' AS pg_catalog.numeric)', 'CAST(NULL AS pg_catalog.numeric)'));
            ext_args := ext_args || ', maintenance_amount => x.ma';
        END IF;
    END IF;

    -- x: each position with its instrument and the mark it was last checked
    -- against; y: the inputs enforcement refuses; z: the figures it stores.
    bad_q := format($q$
        WITH v AS (
            SELECT %1$s AS k, p.ctid AS t, p.tableoid AS r, CAST(p.%6$I AS pg_catalog.text) AS sym,
                   i.%12$I IS NOT NULL AS has_ins, s.mark_price AS mark,
                   CAST(p.%7$I AS pg_catalog.numeric) AS size,
                   CAST(p.%8$I AS pg_catalog.numeric) AS entry,
                   CAST(p.%9$I AS pg_catalog.numeric) AS margin,
                   p.%2$I AS lp, p.%3$I AS mcp, p.%4$I AS bp, p.%5$I AS st,
                   %13$s AS kind, %14$s AS cs, %15$s AS fee, %16$s AS risk%22$s
              FROM %10$s p
              LEFT JOIN %11$s i ON i.%12$I = p.%6$I
              LEFT JOIN %17$s s ON s.symbol = p.%6$I),
        w AS (
            SELECT v.*,
                   v.sym IS NULL OR NOT v.has_ins AS bad_symbol,
                   NOT COALESCE(v.size OPERATOR(pg_catalog.>) '-Infinity'
                                AND v.size OPERATOR(pg_catalog.<) 'Infinity', false) AS bad_size,
                   NOT COALESCE(v.entry OPERATOR(pg_catalog.>) 0
                                AND v.entry OPERATOR(pg_catalog.<) 'Infinity', false) AS bad_entry,
                   NOT COALESCE(v.margin OPERATOR(pg_catalog.>=) 0
                                AND v.margin OPERATOR(pg_catalog.<) 'Infinity', false) AS bad_margin
              FROM v),
        x AS (
            SELECT w.*, NOT (w.bad_symbol OR w.bad_size OR w.bad_entry OR w.bad_margin) AS fixable
              FROM w),
        y AS (
            SELECT x.*, f.*,
                   CASE WHEN x.st OPERATOR(pg_catalog.>=) 'liquidate'
                        THEN GREATEST(x.st, COALESCE(f.chk, 'ok'))
                        ELSE COALESCE(f.chk, 'ok') END AS e_st
              FROM x CROSS JOIN LATERAL (
                   SELECT CASE WHEN x.fixable THEN @extschema@.%24$sliquidation_price(
                              size => x.size, entry_price => x.entry, margin => x.margin,
                              %18$s x.risk, contract_size => x.cs, kind => x.kind,
                              fee_rate => x.fee, tick_size => %21$L%23$s) END AS e_lp,
                          CASE WHEN x.fixable THEN @extschema@.%24$smargin_call_price(
                              size => x.size, entry_price => x.entry, margin => x.margin,
                              %18$s x.risk, contract_size => x.cs, kind => x.kind,
                              fee_rate => x.fee, margin_call_ratio => %19$L, tick_size => %21$L%23$s) END AS e_mcp,
                          CASE WHEN x.fixable THEN @extschema@.bankruptcy_price(
                              size => x.size, entry_price => x.entry, margin => x.margin,
                              contract_size => x.cs, kind => x.kind, tick_size => %21$L) END AS e_bp,
                          CASE WHEN x.fixable AND x.mark IS NOT NULL THEN @extschema@.%24$smargin_status(
                              size => x.size, entry_price => x.entry, mark_price => x.mark,
                              margin => x.margin, %18$s x.risk, contract_size => x.cs,
                              kind => x.kind, fee_rate => x.fee,
                              margin_call_ratio => %19$L%23$s) END AS chk) f),
        d AS (
            SELECT y.k, y.t, y.r, y.sym, y.mark, y.fixable,
                   y.fixable AND y.lp IS DISTINCT FROM y.e_lp AS d_lp,
                   y.fixable AND y.mcp IS DISTINCT FROM y.e_mcp AS d_mcp,
                   y.fixable AND y.bp IS DISTINCT FROM y.e_bp AS d_bp,
                   y.fixable AND y.st IS DISTINCT FROM y.e_st AS d_st,
                   y.bad_symbol, y.bad_size, y.bad_entry, y.bad_margin,
                   y.lp, y.mcp, y.bp, y.st, y.e_lp, y.e_mcp, y.e_bp, y.e_st,
                   y.sym AS v_sym, y.size AS v_size, y.entry AS v_entry, y.margin AS v_margin
              FROM y)
        SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'position_key', d.k, 'symbol', d.sym, 'mark_price', d.mark,
                   'columns', pg_catalog.array_remove(ARRAY[
                       CASE WHEN d.bad_symbol THEN %6$L END, CASE WHEN d.bad_size THEN %7$L END,
                       CASE WHEN d.bad_entry THEN %8$L END, CASE WHEN d.bad_margin THEN %9$L END,
                       CASE WHEN d.d_lp THEN %2$L END, CASE WHEN d.d_mcp THEN %3$L END,
                       CASE WHEN d.d_bp THEN %4$L END, CASE WHEN d.d_st THEN %5$L END], NULL),
                   'stored', CAST('{}' AS pg_catalog.jsonb)
                       OPERATOR(pg_catalog.||) CASE WHEN d.bad_symbol THEN pg_catalog.jsonb_build_object(%6$L, d.v_sym) ELSE '{}' END
                       OPERATOR(pg_catalog.||) CASE WHEN d.bad_size THEN pg_catalog.jsonb_build_object(%7$L, d.v_size) ELSE '{}' END
                       OPERATOR(pg_catalog.||) CASE WHEN d.bad_entry THEN pg_catalog.jsonb_build_object(%8$L, d.v_entry) ELSE '{}' END
                       OPERATOR(pg_catalog.||) CASE WHEN d.bad_margin THEN pg_catalog.jsonb_build_object(%9$L, d.v_margin) ELSE '{}' END
                       OPERATOR(pg_catalog.||) CASE WHEN d.d_lp THEN pg_catalog.jsonb_build_object(%2$L, d.lp) ELSE '{}' END
                       OPERATOR(pg_catalog.||) CASE WHEN d.d_mcp THEN pg_catalog.jsonb_build_object(%3$L, d.mcp) ELSE '{}' END
                       OPERATOR(pg_catalog.||) CASE WHEN d.d_bp THEN pg_catalog.jsonb_build_object(%4$L, d.bp) ELSE '{}' END
                       OPERATOR(pg_catalog.||) CASE WHEN d.d_st THEN pg_catalog.jsonb_build_object(%5$L, d.st) ELSE '{}' END,
                   'expected', CAST('{}' AS pg_catalog.jsonb)
                       OPERATOR(pg_catalog.||) CASE WHEN d.bad_symbol THEN pg_catalog.jsonb_build_object(%6$L, %20$L) ELSE '{}' END
                       OPERATOR(pg_catalog.||) CASE WHEN d.bad_size THEN pg_catalog.jsonb_build_object(%7$L, 'a finite number') ELSE '{}' END
                       OPERATOR(pg_catalog.||) CASE WHEN d.bad_entry THEN pg_catalog.jsonb_build_object(%8$L, 'a finite number greater than zero') ELSE '{}' END
                       OPERATOR(pg_catalog.||) CASE WHEN d.bad_margin THEN pg_catalog.jsonb_build_object(%9$L, 'a finite number, zero or more') ELSE '{}' END
                       OPERATOR(pg_catalog.||) CASE WHEN d.d_lp THEN pg_catalog.jsonb_build_object(%2$L, d.e_lp) ELSE '{}' END
                       OPERATOR(pg_catalog.||) CASE WHEN d.d_mcp THEN pg_catalog.jsonb_build_object(%3$L, d.e_mcp) ELSE '{}' END
                       OPERATOR(pg_catalog.||) CASE WHEN d.d_bp THEN pg_catalog.jsonb_build_object(%4$L, d.e_bp) ELSE '{}' END
                       OPERATOR(pg_catalog.||) CASE WHEN d.d_st THEN pg_catalog.jsonb_build_object(%5$L, d.e_st) ELSE '{}' END,
                   'tid', CAST(d.t AS pg_catalog.text),
                   'row', pg_catalog.concat(d.r, ':', d.t), 'fixable', d.fixable) ORDER BY d.k)
          FROM d
         WHERE NOT d.fixable OR d.d_lp OR d.d_mcp OR d.d_bp OR d.d_st $q$,
        key_expr,
        c #>> '{positions,liquidation_price}', c #>> '{positions,margin_call_price}',
        c #>> '{positions,bankruptcy_price}', c #>> '{positions,status}',
        c #>> '{positions,symbol}', c #>> '{positions,size}', c #>> '{positions,entry_price}',
        c #>> '{positions,margin}',
        verify.positions, e.instruments, c #>> '{instruments,symbol}',
        coalesce('CAST(CAST(i.' || quote_ident(c #>> '{instruments,kind}')
                 || ' AS pg_catalog.text) AS @extschema@.contract_kind)', '''linear''::@extschema@.contract_kind'),
        coalesce('CAST(i.' || quote_ident(c #>> '{instruments,contract_size}') || ' AS pg_catalog.numeric)',
                 '1::pg_catalog.numeric'),
        coalesce('CAST(i.' || quote_ident(c #>> '{instruments,fee_rate}') || ' AS pg_catalog.numeric)',
                 '0::pg_catalog.numeric'),
        rate, e.state_table, risk_arg, e.margin_call_ratio,
        format('an instrument of %s', e.instruments), e.tick_size, ext_cols, ext_args, fig);
    bad := @extschema@.run_as_owner(verify.positions, bad_q)::jsonb;
    IF bad IS NULL THEN
        RETURN;
    END IF;

    -- Repair: rewrite each fixable row's size to itself, through the positions
    -- trigger, as enforce() computes an attached table: the trigger locks the
    -- instrument's state row, recomputes the prices, checks the row at the
    -- current mark (liquidate and bankrupt stay), sets the status and records
    -- the event.  A row changed since it was read was rewritten by its own
    -- change (its tid is gone) and is left alone.
    IF verify.repair THEN
        done := coalesce(@extschema@.run_as_owner(verify.positions, format(
            'WITH u AS (UPDATE %1$s p SET %2$I = p.%2$I
                         WHERE p.ctid OPERATOR(pg_catalog.=) ANY (CAST(%3$L AS pg_catalog.tid[]))
                           AND pg_catalog.concat(p.tableoid, '':'', p.ctid)
                               OPERATOR(pg_catalog.=) ANY (CAST(%5$L AS pg_catalog.text[]))
                        RETURNING %4$s AS k)
             SELECT pg_catalog.jsonb_agg(u.k) FROM u',
            verify.positions, c #>> '{positions,size}',
            (SELECT array_agg(r ->> 'tid') FROM jsonb_array_elements(bad) r
              WHERE (r ->> 'fixable')::boolean), key_expr,
            (SELECT array_agg(r ->> 'row') FROM jsonb_array_elements(bad) r
              WHERE (r ->> 'fixable')::boolean)))::jsonb, '[]');
    END IF;

    RETURN QUERY
    SELECT r -> 'position_key', r ->> 'symbol', (r ->> 'mark_price')::numeric,
           ARRAY(SELECT jsonb_array_elements_text(r -> 'columns')),
           r -> 'stored', r -> 'expected',
           verify.repair AND (r ->> 'fixable')::boolean AND done @> jsonb_build_array(r -> 'position_key')
      FROM jsonb_array_elements(bad) r;
END
$fn$;

-- Refuses a user BEFORE ROW trigger that would fire after an attached
-- positions table's isomargin trigger (CREATE TRIGGER, ALTER TRIGGER ...
-- RENAME, ALTER TABLE ... ENABLE TRIGGER, or enforce() on such a table), and
-- warns when a command leaves one of an attachment's triggers disabled or
-- firing only on a replica (src/enforce_bypass.c).  ALWAYS, as
-- isomargin_sql_drop.
CREATE FUNCTION @extschema@.enforcement_ddl_check() RETURNS event_trigger
AS 'MODULE_PATHNAME', 'enforcement_ddl_check' LANGUAGE C;
CREATE EVENT TRIGGER isomargin_ddl_check ON ddl_command_end
WHEN TAG IN ('CREATE TRIGGER', 'ALTER TRIGGER', 'ALTER TABLE')
EXECUTE FUNCTION @extschema@.enforcement_ddl_check();
ALTER EVENT TRIGGER isomargin_ddl_check ENABLE ALWAYS;
-- ---- end of the verify block ----



-- ---- the liquidation engine (issue 16): install/50_liquidation.sql and
-- ---- install/55_liquidation_worker.sql, the same text
-- The liquidation engine (doc/liquidation.md): closing part of a position,
-- how much to close, the insurance fund's ledger, auto-deleveraging, and a
-- worker that claims enforcement's events and liquidates what they flag.
-- Everything here is SQL and PL/pgSQL over the C figures: the close itself
-- is after_fill's (close_part in src/formulas_template.h), one text.

-- ---------------------------------------------------------------- item 1: the close

CREATE TYPE @extschema@.close_result AS (
    size             numeric,
    entry_price      numeric,
    margin           numeric,
    realized_pnl     numeric,
    fee              numeric,
    released_margin  numeric,
    cash             numeric,
    liquidation_price numeric,
    bankruptcy_price numeric
);
COMMENT ON TYPE @extschema@.close_result IS
    'a position after closing part of it (isomargin.close_part): the rest, what the close settled, and the rest''s prices';

-- 0 <= close_size <= |size|, or 22023.
CREATE FUNCTION @extschema@.close_size_check(size numeric, close_size numeric)
RETURNS void
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF close_size < 0 THEN
        RAISE EXCEPTION 'close_size must not be negative'
            USING ERRCODE = '22023', DETAIL = format('The value is %s.', close_size);
    END IF;
    IF close_size > abs(size) THEN
        RAISE EXCEPTION 'close_size must not exceed the size of the position'
            USING ERRCODE = '22023',
                  DETAIL = format('The position holds %s contracts; close_size is %s.', abs(size), close_size);
    END IF;
END
$fn$;

-- The rule is mmr or tiers (the other NULL): the public overloads below.
CREATE FUNCTION @extschema@.close_part_rule(
    size numeric, entry_price numeric, margin numeric, close_size numeric, fill_price numeric,
    mmr numeric, tiers @extschema@.tiers, contract_size numeric,
    kind @extschema@.contract_kind, fee_rate numeric, tick_size numeric)
RETURNS @extschema@.close_result
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    f @extschema@.fill_result;
    r @extschema@.close_result;
BEGIN
    PERFORM @extschema@.close_size_check(size, close_size);
    f := @extschema@.after_fill(size, entry_price, margin, -sign(size) * close_size, fill_price,
                                contract_size, kind, fee_rate);
    r.size := f.size;
    r.entry_price := f.entry_price;
    r.margin := f.margin;
    r.realized_pnl := f.realized_pnl;
    r.fee := f.fee;
    r.released_margin := f.released_margin;
    r.cash := f.cash;
    IF tiers IS NULL THEN
        r.liquidation_price := @extschema@.liquidation_price(f.size, f.entry_price, f.margin, mmr,
                                   contract_size, kind, fee_rate, tick_size);
    ELSE
        r.liquidation_price := @extschema@.liquidation_price(f.size, f.entry_price, f.margin, tiers,
                                   contract_size, kind, fee_rate, tick_size);
    END IF;
    r.bankruptcy_price := @extschema@.bankruptcy_price(f.size, f.entry_price, f.margin,
                              contract_size, kind, tick_size);
    RETURN r;
END
$fn$;

CREATE FUNCTION @extschema@.close_part(
    size numeric, entry_price numeric, margin numeric, close_size numeric, fill_price numeric,
    mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS @extschema@.close_result
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
SELECT @extschema@.close_part_rule($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9, $10)
$fn$;

CREATE FUNCTION @extschema@.close_part(
    size numeric, entry_price numeric, margin numeric, close_size numeric, fill_price numeric,
    tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS @extschema@.close_result
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
SELECT @extschema@.close_part_rule($1, $2, $3, $4, $5, NULL, $6, $7, $8, $9, $10)
$fn$;

-- ---------------------------------------------------------------- item 3: settlement at the bankruptcy price

CREATE TYPE @extschema@.liquidation_settlement AS (
    size             numeric,   -- the rest of the position
    entry_price      numeric,
    margin           numeric,   -- the rest's margin: its share, in proportion
    closed_size      numeric,
    fill_price       numeric,
    bankruptcy_price numeric,   -- of the position before the close (the rest's is the same)
    released_margin  numeric,   -- the closed part's margin: the trader's loss
    realized_pnl     numeric,   -- the closed part's PnL at the fill price
    to_fund          numeric,   -- released_margin + realized_pnl: the fund's (< 0: the fund pays)
    liquidation_fee  numeric    -- the part of to_fund booked as the liquidation fee
);
COMMENT ON TYPE @extschema@.liquidation_settlement IS
    'a liquidating close settled at the bankruptcy price (isomargin.liquidation_settlement)';

-- The closed part is settled at its bankruptcy price: the trader receives
-- nothing for it (its equity there is 0), and its equity at the fill price,
-- released margin + PnL at the fill, goes to the insurance fund (negative:
-- the fund pays).  The liquidation fee, rate times the closed notional at
-- the fill (after_fill's fee rule), is the part of that equity booked as
-- fee, as far as it goes (none past bankruptcy): the rest's margin stays
-- in proportion, so a partial close never leaves the rest weaker.
CREATE FUNCTION @extschema@.liquidation_settlement(
    size numeric, entry_price numeric, margin numeric, close_size numeric, fill_price numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    liquidation_fee_rate numeric DEFAULT 0)
RETURNS @extschema@.liquidation_settlement
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    f @extschema@.fill_result;
    r @extschema@.liquidation_settlement;
BEGIN
    PERFORM @extschema@.close_size_check(size, close_size);
    f := @extschema@.after_fill(size, entry_price, margin, -sign(size) * close_size, fill_price,
                                contract_size, kind, liquidation_fee_rate);
    r.size := f.size;
    r.entry_price := f.entry_price;
    r.closed_size := close_size;
    r.fill_price := fill_price;
    r.bankruptcy_price := @extschema@.bankruptcy_price(size, entry_price, margin, contract_size, kind);
    r.released_margin := f.released_margin;
    r.realized_pnl := f.realized_pnl;
    r.to_fund := f.released_margin + f.realized_pnl;
    r.liquidation_fee := least(f.fee, greatest(r.to_fund, 0));
    r.margin := margin - f.released_margin;
    RETURN r;
END
$fn$;

-- ---------------------------------------------------------------- item 2: how much to close

-- Presets for the venues' published policies (doc/liquidation.md).
CREATE FUNCTION @extschema@.liquidation_policy(preset text)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    CASE preset
    WHEN 'whole' THEN
        RETURN '{"method": "whole"}';
    WHEN 'okx' THEN
        RETURN '{"method": "tiers", "tiers_down": 2}';
    WHEN 'hyperliquid' THEN
        RETURN '{"method": "fraction", "fraction": 0.2, "threshold": 100000, "cooldown": 30, "backstop_ratio": 0.6666666666666667}';
    WHEN 'smallest' THEN
        RETURN '{"method": "smallest", "buffer": 0.25}';
    ELSE
        RAISE EXCEPTION 'unknown liquidation policy preset "%"', preset
            USING ERRCODE = '22023', HINT = 'The presets are whole, okx, hyperliquid and smallest.';
    END CASE;
END
$fn$;

-- A policy with every key filled in (defaults) and checked, or 22023.
CREATE FUNCTION @extschema@.liquidation_policy_check(policy jsonb)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    full_policy jsonb := '{"method": "whole", "buffer": 0.25, "lot_size": 0.00000001,
                           "liquidation_fee_rate": 0, "fraction": 0.2, "threshold": 0,
                           "cooldown": 0, "backstop_ratio": 0, "tiers_down": 2,
                           "adl_rank": "leverage"}';
    k text;
    v jsonb;
    x numeric;
BEGIN
    IF jsonb_typeof(policy) <> 'object' THEN
        RAISE EXCEPTION 'a liquidation policy must be a JSON object' USING ERRCODE = '22023';
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(policy) LOOP
        IF NOT full_policy ? k THEN
            RAISE EXCEPTION 'unknown key "%" in liquidation policy', k
                USING ERRCODE = '22023',
                      HINT = 'The keys are method, buffer, lot_size, liquidation_fee_rate, fraction, threshold, cooldown, backstop_ratio, tiers_down and adl_rank.';
        END IF;
        IF k = 'method' THEN
            IF v NOT IN ('"whole"', '"smallest"', '"tiers"', '"fraction"') THEN
                RAISE EXCEPTION 'liquidation policy method must be one of whole, smallest, tiers, fraction'
                    USING ERRCODE = '22023', DETAIL = format('The value is %s.', v);
            END IF;
        ELSIF k = 'adl_rank' THEN
            IF v NOT IN ('"leverage"', '"profit"') THEN
                RAISE EXCEPTION 'liquidation policy adl_rank must be leverage or profit'
                    USING ERRCODE = '22023', DETAIL = format('The value is %s.', v);
            END IF;
        ELSE
            IF jsonb_typeof(v) <> 'number' THEN
                RAISE EXCEPTION 'liquidation policy % must be a number', k
                    USING ERRCODE = '22023', DETAIL = format('The value is %s.', v);
            END IF;
            x := v::text::numeric;
            IF x < 0 OR (k IN ('lot_size') AND x = 0)
               OR (k IN ('fraction') AND (x = 0 OR x > 1))
               OR (k = 'tiers_down' AND x <> trunc(x)) THEN
                RAISE EXCEPTION 'liquidation policy % is out of range', k
                    USING ERRCODE = '22023',
                          DETAIL = format('The value is %s.', v),
                          HINT = 'lot_size > 0; 0 < fraction <= 1; tiers_down a whole number; the others >= 0.';
            END IF;
        END IF;
        full_policy := jsonb_set(full_policy, ARRAY[k], v);
    END LOOP;
    RETURN full_policy;
END
$fn$;

-- The maintenance figures with the rule given as mmr or tiers (the other NULL)
-- and the position's dynamic add-on rate c (doc/dynamic.md; 0: none): every
-- bracket's r_i + f taking r_i + f + c, as enforcement charges it.  assess
-- with fee_rate f + c gives the digits of the dynamic_* figures with
-- addon_rate c (sql/dynamic_figures.sql checks it), and the whole row.
-- margin_call_ratio is the attachment's (enforce's setting): the status
-- (ok or margin_call) is the one enforcement stores.  The instrument's venue
-- conventions (doc/venues.md) as enforcement reads them: maintenance_amount
-- with mmr, tier_basis and bracket_basis with tiers.  With the fee at the
-- bankruptcy price an add-on is no fee rate: liquidation_conventions_check
-- refuses that pair before it gets here.
CREATE FUNCTION @extschema@.assess_rule(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    mmr numeric, tiers @extschema@.tiers, contract_size numeric,
    kind @extschema@.contract_kind, fee_rate numeric, addon_rate numeric,
    margin_call_ratio numeric,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price',
    maintenance_amount numeric DEFAULT 0)
RETURNS @extschema@.assessment
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
SELECT CASE WHEN $6 IS NULL
            THEN @extschema@.assess($1, $2, $3, $4, $5, $7, $8, $9 OPERATOR(pg_catalog.+) $10, $11,
                                    mm_basis => $12, fee_basis => $13, maintenance_amount => $16)
            ELSE @extschema@.assess($1, $2, $3, $4, $6, $7, $8, $9 OPERATOR(pg_catalog.+) $10, $11,
                                    mm_basis => $12, fee_basis => $13, tier_basis => $14,
                                    bracket_basis => $15) END
$fn$;

-- The conventions of a sizing, checked (the worker reads what enforcement
-- checked): maintenance_amount >= 0, and no add-on beside the fee at the
-- bankruptcy price (no figure charges that pair; doc/liquidation.md), or
-- 22023 / 0A000.  Returns the add-on.
CREATE FUNCTION @extschema@.liquidation_conventions_check(
    addon numeric, fee_basis @extschema@.fee_basis, maintenance_amount numeric)
RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF maintenance_amount < 0 THEN
        RAISE EXCEPTION 'maintenance_amount must not be negative'
            USING ERRCODE = '22023', DETAIL = format('The value is %s.', maintenance_amount);
    END IF;
    IF addon > 0 AND fee_basis = 'bankruptcy' THEN
        RAISE EXCEPTION 'the liquidation engine does not support a dynamic add-on with fee_basis bankruptcy'
            USING ERRCODE = '0A000',
                  DETAIL = format('The position''s add-on rate is %s.', addon),
                  HINT = 'No figure function charges an add-on beside the fee at the bankruptcy price.';
    END IF;
    RETURN addon;
END
$fn$;

-- k rounded up (down) to a whole lot.
CREATE FUNCTION @extschema@.lot_up(k numeric, lot numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$ SELECT pg_catalog.ceil($1 OPERATOR(pg_catalog./) $2) OPERATOR(pg_catalog.*) $2 $fn$;
CREATE FUNCTION @extschema@.lot_down(k numeric, lot numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$ SELECT pg_catalog.floor($1 OPERATOR(pg_catalog./) $2) OPERATOR(pg_catalog.*) $2 $fn$;

-- The policy comes checked and filled in (liquidation_policy_check).  The
-- requirement is enforcement's: the instrument's addon_rate plus, with a
-- liquidity curve, liquidity_curve_addon(curve, size) of the position, and
-- of the rest for each rest it tries (doc/liquidation.md, "With dynamic
-- add-ons"), every check at the attachment's margin_call_ratio, and under
-- the instrument's venue conventions (doc/liquidation.md, "Under venue
-- conventions").
CREATE FUNCTION @extschema@.liquidation_size_rule(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    mmr numeric, tiers @extschema@.tiers, contract_size numeric,
    kind @extschema@.contract_kind, fee_rate numeric, policy jsonb,
    addon_rate numeric, liquidity_curve jsonb, margin_call_ratio numeric,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price',
    maintenance_amount numeric DEFAULT 0)
RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    p      jsonb := policy;
    method text := p->>'method';
    lot    numeric := (p->>'lot_size')::numeric;
    lf     numeric := (p->>'liquidation_fee_rate')::numeric;
    buf    numeric := (p->>'buffer')::numeric;
    a      @extschema@.assessment;
    q      numeric := abs(size);
    br     jsonb;           -- brackets: [{minNotional, maxNotional, maintenanceMarginRate, maintenanceAmount}]
    nb     int;
    j      int;
    i      int;
    n      numeric;         -- notional of one contract at the mark (a proposal only)
    alpha  numeric;
    beta   numeric;
    lo     numeric;
    hi     numeric;
    cand   numeric;
    k      numeric;
    cap    numeric;
    t      int;
    c      numeric := addon_rate;   -- the position's add-on, at its size
    lo_k   numeric;
    -- the venue conventions (doc/venues.md); without any, conv is false and
    -- nr = nk = n, fin = fee_rate, g = 0: the mark basis
    conv   boolean;
    nr     numeric;         -- notional of one contract the rate applies to (at the mark or the entry)
    nk     numeric;         -- the brackets' unit per contract: notional at the mark or the entry, or 1 (contracts)
    fin    numeric;         -- the fee rate beside the rate: 0 with the fee at the bankruptcy price
    g      numeric;         -- the fee at the bankruptcy price, per contract
BEGIN
    IF size = 0 THEN
        RETURN 0;
    END IF;
    IF liquidity_curve IS NOT NULL THEN
        c := c + @extschema@.liquidity_curve_addon(liquidity_curve, size);
    END IF;
    IF fee_basis = 'bankruptcy' OR maintenance_amount <> 0 THEN
        PERFORM @extschema@.liquidation_conventions_check(c, fee_basis, maintenance_amount);
    END IF;
    a := @extschema@.assess_rule(size, entry_price, mark_price, margin, mmr, tiers,
                                 contract_size, kind, fee_rate, c, margin_call_ratio,
                                 mm_basis, fee_basis, tier_basis, bracket_basis, maintenance_amount);
    IF a.status < 'liquidate' THEN
        RETURN 0;
    END IF;
    IF a.status = 'bankrupt' OR method = 'whole' THEN
        RETURN q;
    END IF;

    IF tiers IS NULL THEN
        br := jsonb_build_array(jsonb_build_object('minNotional', 0, 'maxNotional', NULL,
                  'maintenanceMarginRate', mmr, 'maintenanceAmount', maintenance_amount));
    ELSE
        br := @extschema@.tiers_to_jsonb(tiers);
        IF jsonb_typeof(br) = 'object' THEN    -- amounts given or none: {"amounts": ..., "brackets": [...]}
            br := br->'brackets';
        END IF;
    END IF;
    nb := jsonb_array_length(br);
    n := @extschema@.notional(1, mark_price, contract_size, kind);
    nr := n;
    nk := n;
    fin := fee_rate;
    g := 0;
    conv := mm_basis <> 'mark' OR fee_basis <> 'mark' OR maintenance_amount <> 0
            OR (tiers IS NOT NULL AND (tier_basis <> 'notional' OR bracket_basis <> 'price'));
    IF conv THEN
        -- the rest keeps the entry price and the bankruptcy price (its margin
        -- is its share), so per contract each term below is a constant
        IF mm_basis = 'entry' THEN
            nr := @extschema@.notional(1, entry_price, contract_size, kind);
        END IF;
        IF tiers IS NOT NULL AND tier_basis = 'contracts' THEN
            nk := 1;
        ELSIF mm_basis = 'entry' OR (tiers IS NOT NULL AND bracket_basis = 'entry') THEN
            nk := @extschema@.notional(1, entry_price, contract_size, kind);
        END IF;
        IF fee_basis = 'bankruptcy' THEN
            fin := 0;
            g := greatest(0, fee_rate * CASE WHEN kind = 'inverse'
                                             THEN contract_size / entry_price + sign(size) * margin / q
                                             ELSE contract_size * entry_price - sign(size) * margin / q END);
        END IF;
        j := CASE WHEN tiers IS NULL THEN 1 ELSE @extschema@.bracket(tiers, q * nk) END;
    ELSE
        j := CASE WHEN tiers IS NULL THEN 1 ELSE @extschema@.bracket(tiers, a.notional) END;
    END IF;

    IF method = 'fraction' THEN
        -- Hyperliquid: positions above the threshold lose a fraction per step;
        -- the backstop (equity below backstop_ratio x maintenance) and
        -- positions at or below the threshold are closed whole.
        IF a.notional <= (p->>'threshold')::numeric
           OR a.equity < (p->>'backstop_ratio')::numeric * a.maintenance_margin THEN
            RETURN q;
        END IF;
        RETURN least(q, @extschema@.lot_up(q * (p->>'fraction')::numeric, lot));
    END IF;

    IF method = 'tiers' THEN
        -- OKX: from bracket j > tiers_down, close down to the cap of bracket
        -- j - tiers_down; brackets up to tiers_down, and a position whose
        -- equity is below the first bracket's requirement, close whole.
        IF conv THEN
            cand := q * (nr * ((br->0->>'maintenanceMarginRate')::numeric + fin + c) + g);
        ELSE
            cand := a.notional * ((br->0->>'maintenanceMarginRate')::numeric + fee_rate + c);
        END IF;
        IF j <= (p->>'tiers_down')::int OR a.equity <= cand THEN
            RETURN q;
        END IF;
        cap := (br->(j - 1 - (p->>'tiers_down')::int)->>'maxNotional')::numeric;
        IF conv THEN
            cand := cap / nk;
        ELSIF kind = 'inverse' THEN
            cand := cap * mark_price / contract_size;
        ELSE
            cand := cap / (contract_size * mark_price);
        END IF;
        RETURN least(q, @extschema@.lot_up(q - @extschema@.lot_down(cand, lot), lot));
    END IF;

    -- smallest: the largest rest q_r (the smallest close) with
    -- equity' > (1 + buffer) x maintenance', equity' = q_r/|q| x Q.
    -- Without a liquidity curve, within a bracket both sides are linear in
    -- q_r (the add-on c a constant), so each bracket from the current one
    -- down proposes its root; the exact check decides on the lot grid.
    IF liquidity_curve IS NULL THEN
        FOR i IN REVERSE j .. 1 LOOP
            alpha := a.equity / q
                     - (1 + buf) * (nr * ((br->(i - 1)->>'maintenanceMarginRate')::numeric + fin + c) + g);
            beta := (1 + buf) * (br->(i - 1)->>'maintenanceAmount')::numeric;
            lo := (br->(i - 1)->>'minNotional')::numeric / nk;
            hi := least(q, (br->(i - 1)->>'maxNotional')::numeric / nk);
            cand := hi;
            IF alpha < 0 THEN
                cand := least(hi, -beta / alpha);
            END IF;
            CONTINUE WHEN cand <= lo OR cand <= 0;
            k := greatest(lot, @extschema@.lot_up(q - cand, lot));
            IF k > lot AND @extschema@.liquidation_rest_ok(size, entry_price, mark_price, margin, k - lot,
                               mmr, tiers, contract_size, kind, fee_rate, lf, buf, addon_rate, NULL,
                               margin_call_ratio, mm_basis, fee_basis, tier_basis, bracket_basis,
                               maintenance_amount) THEN
                k := k - lot;
            END IF;
            FOR t IN 1 .. 3 LOOP
                EXIT WHEN k >= q;
                IF @extschema@.liquidation_rest_ok(size, entry_price, mark_price, margin, k,
                       mmr, tiers, contract_size, kind, fee_rate, lf, buf, addon_rate, NULL,
                       margin_call_ratio, mm_basis, fee_basis, tier_basis, bracket_basis,
                       maintenance_amount) THEN
                    RETURN k;
                END IF;
                k := k + lot;
            END LOOP;
        END LOOP;
        -- Under a convention the closed form is a proposal that rounding
        -- (the rest's margin, the bankruptcy fee's price) or amounts that do
        -- not follow the derivation can miss: the search below decides.
        IF NOT conv THEN
            RETURN q;
        END IF;
    END IF;
    -- With a liquidity curve the rest's add-on falls with its size, so a
    -- close can help even at a flat rate: the smallest close is searched for
    -- by halves on the lot grid.  A larger close leaves a rest with the same
    -- equity per contract and a requirement per contract no higher (the
    -- brackets' rates and the curve's rate do not fall with the size), so the
    -- closes that leave a healthy rest are all those from the smallest up;
    -- where that does not hold, every close returned is still one the exact
    -- check accepted.
    k := @extschema@.lot_up(q, lot) - lot;     -- the largest close below q
    IF k <= 0 OR NOT @extschema@.liquidation_rest_ok(size, entry_price, mark_price, margin, k,
                         mmr, tiers, contract_size, kind, fee_rate, lf, buf,
                         addon_rate, liquidity_curve, margin_call_ratio, mm_basis, fee_basis,
                         tier_basis, bracket_basis, maintenance_amount) THEN
        RETURN q;
    END IF;
    lo_k := 0;
    LOOP
        cand := greatest(lo_k + lot, @extschema@.lot_down((lo_k + k) / 2, lot));
        EXIT WHEN cand >= k;
        IF @extschema@.liquidation_rest_ok(size, entry_price, mark_price, margin, cand,
               mmr, tiers, contract_size, kind, fee_rate, lf, buf,
               addon_rate, liquidity_curve, margin_call_ratio, mm_basis, fee_basis,
               tier_basis, bracket_basis, maintenance_amount) THEN
            k := cand;
        ELSE
            lo_k := cand;
        END IF;
    END LOOP;
    RETURN k;
END
$fn$;

-- Whether closing k leaves a rest with equity > (1 + buffer) x maintenance
-- (and not flagged), by the exact figures, with the rest's own add-on, at
-- the attachment's margin_call_ratio, under the instrument's conventions.
CREATE FUNCTION @extschema@.liquidation_rest_ok(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, k numeric,
    mmr numeric, tiers @extschema@.tiers, contract_size numeric,
    kind @extschema@.contract_kind, fee_rate numeric, liquidation_fee_rate numeric, buffer numeric,
    addon_rate numeric, liquidity_curve jsonb, margin_call_ratio numeric,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price',
    maintenance_amount numeric DEFAULT 0)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s @extschema@.liquidation_settlement;
    a @extschema@.assessment;
    c numeric := addon_rate;
BEGIN
    s := @extschema@.liquidation_settlement(size, entry_price, margin, k, mark_price, contract_size,
                                            kind, liquidation_fee_rate);
    IF liquidity_curve IS NOT NULL THEN
        c := c + @extschema@.liquidity_curve_addon(liquidity_curve, s.size);
    END IF;
    a := @extschema@.assess_rule(s.size, s.entry_price, mark_price, s.margin, mmr, tiers,
                                 contract_size, kind, fee_rate, c, margin_call_ratio,
                                 mm_basis, fee_basis, tier_basis, bracket_basis, maintenance_amount);
    RETURN a.status < 'liquidate' AND a.equity > (1 + buffer) * a.maintenance_margin;
END
$fn$;

-- The add-on of liquidation_size, checked (the worker reads what enforcement
-- checked): addon_rate >= 0 and a curve of the position's kind, or 22023.
CREATE FUNCTION @extschema@.liquidation_addon_check(
    addon_rate numeric, liquidity_curve jsonb, kind @extschema@.contract_kind)
RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF addon_rate < 0 THEN
        RAISE EXCEPTION 'addon_rate must not be negative'
            USING ERRCODE = '22023', DETAIL = format('The value is %s.', addon_rate);
    END IF;
    IF liquidity_curve IS NOT NULL AND liquidity_curve->>'kind' IS DISTINCT FROM kind::text THEN
        RAISE EXCEPTION 'liquidity_curve is not a liquidity curve of the position''s kind'
            USING ERRCODE = '22023',
                  DETAIL = format('The position is %s and the curve %s.', kind,
                                  coalesce(liquidity_curve->>'kind', 'of no kind')),
                  HINT = 'Build the curve with the instrument''s kind.';
    END IF;
    RETURN addon_rate;
END
$fn$;

-- With the dynamic add-ons enforcement charges (doc/liquidation.md, "With
-- dynamic add-ons"): the instrument's addon_rate, and its liquidity curve
-- (NULL: none); and with the instrument's venue conventions (doc/venues.md).
-- Not STRICT for that one NULL; any other NULL gives NULL.
CREATE FUNCTION @extschema@.liquidation_size(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    policy jsonb DEFAULT '{"method": "whole"}',
    addon_rate numeric DEFAULT 0,
    liquidity_curve jsonb DEFAULT NULL,
    margin_call_ratio numeric DEFAULT 0.8,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    maintenance_amount numeric DEFAULT 0)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
SELECT CASE WHEN $1 IS NULL OR $2 IS NULL OR $3 IS NULL OR $4 IS NULL OR $5 IS NULL OR $6 IS NULL
                 OR $7 IS NULL OR $8 IS NULL OR $9 IS NULL OR $10 IS NULL OR $12 IS NULL
                 OR $13 IS NULL OR $14 IS NULL OR $15 IS NULL THEN NULL
            ELSE @extschema@.liquidation_size_rule($1, $2, $3, $4, $5, NULL, $6, $7, $8,
                     @extschema@.liquidation_policy_check($9),
                     @extschema@.liquidation_addon_check($10, $11, $7), $11, $12,
                     mm_basis => $13, fee_basis => $14, maintenance_amount => $15) END
$fn$;

CREATE FUNCTION @extschema@.liquidation_size(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    policy jsonb DEFAULT '{"method": "whole"}',
    addon_rate numeric DEFAULT 0,
    liquidity_curve jsonb DEFAULT NULL,
    margin_call_ratio numeric DEFAULT 0.8,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price')
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
SELECT CASE WHEN $1 IS NULL OR $2 IS NULL OR $3 IS NULL OR $4 IS NULL OR $5 IS NULL OR $6 IS NULL
                 OR $7 IS NULL OR $8 IS NULL OR $9 IS NULL OR $10 IS NULL OR $12 IS NULL
                 OR $13 IS NULL OR $14 IS NULL OR $15 IS NULL OR $16 IS NULL THEN NULL
            ELSE @extschema@.liquidation_size_rule($1, $2, $3, $4, NULL, $5, $6, $7, $8,
                     @extschema@.liquidation_policy_check($9),
                     @extschema@.liquidation_addon_check($10, $11, $7), $11, $12,
                     mm_basis => $13, fee_basis => $14, tier_basis => $15, bracket_basis => $16) END
$fn$;

-- ---------------------------------------------------------------- item 4: ADL ranking

-- Profit percentage (return on equity, U/M) times effective leverage (N/Q)
-- for a position in profit, the plain profit percentage (<= 0) otherwise:
-- ordered DESC, the most profitable, most leveraged first, losers last.
CREATE FUNCTION @extschema@.adl_rank(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
SELECT CASE WHEN r OPERATOR(pg_catalog.>) 0
            THEN r OPERATOR(pg_catalog.*) @extschema@.effective_leverage($1, $2, $3, $4, $5, $6)
            ELSE r END
  FROM (SELECT @extschema@.return_on_equity($1, $2, $3, $4, $5, $6) AS r) AS x
$fn$;

CREATE FUNCTION @extschema@.adl_profit_rank(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
SELECT @extschema@.return_on_equity($1, $2, $3, $4, $5, $6)
$fn$;

-- ---------------------------------------------------------------- item 3: the insurance fund

-- Which attachments are liquidated, by which policy (per symbol overrides),
-- and which instruments column names a position's fund (its settlement
-- currency); without one, each symbol has its own fund.
CREATE TABLE @extschema@.liquidation_settings (
    positions       pg_catalog.regclass PRIMARY KEY,
    policy          pg_catalog.jsonb NOT NULL DEFAULT '{"method": "whole"}',
    symbol_policies pg_catalog.jsonb NOT NULL DEFAULT '{}',
    fund_column     pg_catalog.text
);
COMMENT ON TABLE @extschema@.liquidation_settings IS
    'isomargin liquidation: the policy of each liquidated positions table (isomargin.liquidation_setup)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.liquidation_settings', '');

CREATE TABLE @extschema@.insurance_funds (
    positions pg_catalog.regclass NOT NULL,
    fund      pg_catalog.text NOT NULL,
    balance   pg_catalog.numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (positions, fund)
);
COMMENT ON TABLE @extschema@.insurance_funds IS
    'isomargin liquidation: each insurance fund''s balance, always the sum of its ledger rows';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.insurance_funds', '');

CREATE SEQUENCE @extschema@.insurance_ledger_id_seq AS pg_catalog.int8;
CREATE TABLE @extschema@.insurance_ledger (
    id               pg_catalog.int8 NOT NULL
                     DEFAULT pg_catalog.nextval('@extschema@.insurance_ledger_id_seq'::pg_catalog.regclass) PRIMARY KEY,
    positions        pg_catalog.regclass NOT NULL,
    fund             pg_catalog.text NOT NULL,
    entry            pg_catalog.text NOT NULL CHECK (entry IN ('deposit', 'liquidation')),
    amount           pg_catalog.numeric NOT NULL,    -- the fund's change: settlement + liquidation_fee
    symbol           pg_catalog.text,
    position_key     pg_catalog.jsonb,
    event_id         pg_catalog.int8,
    worker           pg_catalog.text,
    method           pg_catalog.text,
    mark_price       pg_catalog.numeric,             -- the fill price
    size_before      pg_catalog.numeric,
    entry_price      pg_catalog.numeric,
    margin_before    pg_catalog.numeric,
    closed_size      pg_catalog.numeric,
    bankruptcy_price pg_catalog.numeric,
    released_margin  pg_catalog.numeric,
    realized_pnl     pg_catalog.numeric,
    settlement       pg_catalog.numeric,             -- released + PnL at the fill; 0 when ADL took the close
    liquidation_fee  pg_catalog.numeric,
    adl_size         pg_catalog.numeric NOT NULL DEFAULT 0,
    shortfall        pg_catalog.numeric NOT NULL DEFAULT 0,
    size_after       pg_catalog.numeric,
    margin_after     pg_catalog.numeric,
    created_at       pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX insurance_ledger_position ON @extschema@.insurance_ledger (positions, position_key, id);
COMMENT ON TABLE @extschema@.insurance_ledger IS
    'isomargin liquidation: the insurance funds'' append-only ledger, one row per liquidation step or deposit';
ALTER SEQUENCE @extschema@.insurance_ledger_id_seq OWNED BY @extschema@.insurance_ledger.id;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.insurance_ledger', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.insurance_ledger_id_seq', '');

CREATE FUNCTION @extschema@.insurance_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION 'isomargin.insurance_ledger is append-only'
        USING ERRCODE = '55000', HINT = 'Correct a row with a new deposit row.';
END
$fn$;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON @extschema@.insurance_ledger
    FOR EACH ROW EXECUTE FUNCTION @extschema@.insurance_ledger_append_only();

-- Shortfalls the fund could not cover: the closed contracts go to the
-- opposite side's top-ranked positions at the bankruptcy price.
CREATE SEQUENCE @extschema@.adl_queue_id_seq AS pg_catalog.int8;
CREATE TABLE @extschema@.adl_queue (
    id            pg_catalog.int8 NOT NULL
                     DEFAULT pg_catalog.nextval('@extschema@.adl_queue_id_seq'::pg_catalog.regclass) PRIMARY KEY,
    ledger_id     pg_catalog.int8 NOT NULL,             -- insurance_ledger.id (no foreign key: the ledger is append-only)
    positions     pg_catalog.regclass NOT NULL,
    symbol        pg_catalog.text NOT NULL,
    side          @extschema@.position_side NOT NULL,   -- the side that is deleveraged
    size          pg_catalog.numeric NOT NULL,
    price         pg_catalog.numeric NOT NULL,           -- the liquidated position's bankruptcy price
    shortfall     pg_catalog.numeric NOT NULL,
    assigned_size pg_catalog.numeric NOT NULL DEFAULT 0,
    assigned_at   pg_catalog.timestamptz,
    created_at    pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.adl_queue IS
    'isomargin liquidation: shortfalls queued for auto-deleveraging';
ALTER SEQUENCE @extschema@.adl_queue_id_seq OWNED BY @extschema@.adl_queue.id;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.adl_queue', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.adl_queue_id_seq', '');

CREATE SEQUENCE @extschema@.adl_fills_id_seq AS pg_catalog.int8;
CREATE TABLE @extschema@.adl_fills (
    id              pg_catalog.int8 NOT NULL
                     DEFAULT pg_catalog.nextval('@extschema@.adl_fills_id_seq'::pg_catalog.regclass) PRIMARY KEY,
    queue_id        pg_catalog.int8 NOT NULL,   -- adl_queue.id
    position_key    pg_catalog.jsonb NOT NULL,
    rank            pg_catalog.numeric,
    closed_size     pg_catalog.numeric NOT NULL,
    price           pg_catalog.numeric NOT NULL,
    released_margin pg_catalog.numeric NOT NULL,
    realized_pnl    pg_catalog.numeric NOT NULL,
    cash            pg_catalog.numeric NOT NULL,
    size_after      pg_catalog.numeric NOT NULL,
    margin_after    pg_catalog.numeric NOT NULL,
    created_at      pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.adl_fills IS
    'isomargin liquidation: each position reduced by auto-deleveraging';
ALTER SEQUENCE @extschema@.adl_fills_id_seq OWNED BY @extschema@.adl_fills.id;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.adl_fills', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.adl_fills_id_seq', '');

-- Positions left flagged during a policy's cooldown, due again at due_at:
-- the worker's own follow-ups, kept out of the events table.
CREATE TABLE @extschema@.liquidation_followups (
    positions    pg_catalog.regclass NOT NULL,
    position_key pg_catalog.jsonb NOT NULL,
    due_at       pg_catalog.timestamptz NOT NULL,
    PRIMARY KEY (positions, position_key)
);
CREATE INDEX liquidation_followups_due ON @extschema@.liquidation_followups (due_at);
COMMENT ON TABLE @extschema@.liquidation_followups IS
    'isomargin liquidation: positions a worker comes back to after a policy''s cooldown';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.liquidation_followups', '');

-- Attaching the engine to an enforced positions table.
CREATE FUNCTION @extschema@.liquidation_setup(
    positions regclass, policy jsonb DEFAULT '{"method": "whole"}',
    symbol_policies jsonb DEFAULT '{}', fund_column text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    k text;
    v jsonb;
BEGIN
    IF positions IS NULL OR policy IS NULL OR symbol_policies IS NULL THEN
        RAISE EXCEPTION 'positions, policy and symbol_policies must not be null' USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.enforcement e WHERE e.positions = liquidation_setup.positions) THEN
        RAISE EXCEPTION 'table "%" is not enforced', positions
            USING ERRCODE = '22023', HINT = 'Attach enforcement first: isomargin.enforce(positions, marks, instruments).';
    END IF;
    PERFORM @extschema@.liquidation_policy_check(policy);
    IF jsonb_typeof(symbol_policies) <> 'object' THEN
        RAISE EXCEPTION 'symbol_policies must be a JSON object' USING ERRCODE = '22023';
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(symbol_policies) LOOP
        PERFORM @extschema@.liquidation_policy_check(v);
    END LOOP;
    INSERT INTO @extschema@.liquidation_settings AS s (positions, policy, symbol_policies, fund_column)
    VALUES (liquidation_setup.positions, liquidation_setup.policy, liquidation_setup.symbol_policies,
            liquidation_setup.fund_column)
    ON CONFLICT ON CONSTRAINT liquidation_settings_pkey DO UPDATE
       SET policy = EXCLUDED.policy, symbol_policies = EXCLUDED.symbol_policies,
           fund_column = EXCLUDED.fund_column;
END
$fn$;

-- The one writer of the ledger: a row, and the fund's balance moved by its
-- amount, in the caller's transaction.  The fund's row is locked until then,
-- so balance = sum(amount) at every commit.
CREATE FUNCTION @extschema@.insurance_append(row_in @extschema@.insurance_ledger)
RETURNS pg_catalog.int8
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    new_id int8;
BEGIN
    INSERT INTO @extschema@.insurance_ledger (positions, fund, entry, amount, symbol, position_key,
        event_id, worker, method, mark_price, size_before, entry_price, margin_before, closed_size,
        bankruptcy_price, released_margin, realized_pnl, settlement, liquidation_fee, adl_size,
        shortfall, size_after, margin_after)
    SELECT r.positions, r.fund, r.entry, r.amount, r.symbol, r.position_key, r.event_id, r.worker,
           r.method, r.mark_price, r.size_before, r.entry_price, r.margin_before, r.closed_size,
           r.bankruptcy_price, r.released_margin, r.realized_pnl, r.settlement, r.liquidation_fee,
           coalesce(r.adl_size, 0), coalesce(r.shortfall, 0), r.size_after, r.margin_after
      FROM (SELECT row_in.*) AS r
    RETURNING insurance_ledger.id INTO new_id;
    INSERT INTO @extschema@.insurance_funds AS f (positions, fund, balance)
    VALUES (row_in.positions, row_in.fund, row_in.amount)
    ON CONFLICT (positions, fund) DO UPDATE SET balance = f.balance + EXCLUDED.balance;
    RETURN new_id;
END
$fn$;

CREATE FUNCTION @extschema@.insurance_deposit(positions regclass, fund text, amount numeric)
RETURNS pg_catalog.int8
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.insurance_ledger;
BEGIN
    r.positions := positions;
    r.fund := fund;
    r.entry := 'deposit';
    r.amount := amount;
    RETURN @extschema@.insurance_append(r);
END
$fn$;

CREATE VIEW @extschema@.insurance_balances AS
SELECT l.positions, l.fund, pg_catalog.sum(l.amount) AS balance, pg_catalog.count(*) AS rows
  FROM @extschema@.insurance_ledger AS l
 GROUP BY l.positions, l.fund;
COMMENT ON VIEW @extschema@.insurance_balances IS
    'isomargin liquidation: each fund''s balance derived from its ledger rows';
-- The liquidation worker (doc/liquidation.md): claims enforcement's events of
-- liquidated tables, liquidates each flagged position in one transaction by
-- its policy, books the insurance fund and auto-deleverages.

-- ---------------------------------------------------------------- the events table, in one place

-- The worker holds no right on isomargin.events: it claims and acknowledges
-- through claim_events and ack_events, which check its event grants.  These
-- partial indexes serve their filters: a table's unclaimed liquidate/bankrupt
-- events (the claim) and a position's unclaimed events (the settlement).
CREATE INDEX events_unclaimed_liquidation ON @extschema@.events (positions, id)
    WHERE claimed_at IS NULL AND new_status >= 'liquidate';
CREATE INDEX events_unclaimed_position ON @extschema@.events (positions, position_key)
    WHERE claimed_at IS NULL;

-- Claims and acknowledges, as '<worker> (settled)', every unclaimed event of a
-- position the worker has just settled: the events its own update produced (a
-- liquidate -> ok, say) and any earlier ones its settlement superseded.  No
-- worker claims them after that; they stay for the record.  Returns how many.
-- In C (src/liquidation_next.c): one statement of the queue, as claim_events
-- with position_keys and then ack_events would do, after the same grant check.
CREATE FUNCTION @extschema@.liquidation_ack(positions regclass, position_key jsonb, worker text)
RETURNS int
AS 'MODULE_PATHNAME', 'liquidation_ack'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;

-- ---------------------------------------------------------------- an attachment's statements

-- What the worker needs to address an attachment's tables: quoted names and
-- expressions, from the enforcement catalog and the liquidation settings.
CREATE TYPE @extschema@.liquidation_attachment AS (
    positions       regclass,
    key_where       text,   -- p.<pk> = k.<pk> AND ..., k = jsonb_populate_record(NULL::positions, $1)
    key_json        text,   -- jsonb_build_object('<pk>', p.<pk>, ...)
    key_order       text,   -- p.<pk>, ...
    sym             text,
    size            text,
    entry           text,
    margin          text,
    status          text,
    symtype         text,
    read_position   text,   -- $1 key -> symbol::text, size, entry, margin; FOR UPDATE
    read_market     text,   -- $1 symbol -> mark (checked_mark: the state row FOR SHARE), kind, contract_size, fee_rate, mmr, tiers, fund, addon_rate, liquidity_curve, mm_basis, fee_basis, tier_basis, bracket_basis, maintenance_amount
    write_position  text,   -- $1 key, $2 size, $3 margin
    policy          jsonb,
    symbol_policies jsonb
);

CREATE FUNCTION @extschema@.liquidation_attachment(positions regclass)
RETURNS @extschema@.liquidation_attachment
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    e   record;
    a   @extschema@.liquidation_attachment;
    c   jsonb;
    ci  jsonb;
    pks text[];
BEGIN
    SELECT en.columns, en.instruments, s.policy, s.symbol_policies, s.fund_column
      INTO e
      FROM @extschema@.enforcement AS en
      JOIN @extschema@.liquidation_settings AS s ON s.positions = en.positions
     WHERE en.positions = liquidation_attachment.positions;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    c := e.columns -> 'positions';
    ci := e.columns -> 'instruments';
    SELECT array_agg(att.attname::text ORDER BY k.ord) INTO pks
      FROM pg_index AS i
      CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
      JOIN pg_attribute AS att ON att.attrelid = i.indrelid AND att.attnum = k.attnum
     WHERE i.indrelid = liquidation_attachment.positions AND i.indisprimary;
    a.positions := positions;
    a.key_where := (SELECT string_agg(format('p.%I = k.%I', x, x), ' AND ') FROM unnest(pks) AS x);
    a.key_json := (SELECT format('jsonb_build_object(%s)', string_agg(format('%L, p.%I', x, x), ', '))
                     FROM unnest(pks) AS x);
    a.key_order := (SELECT string_agg(format('p.%I', x), ', ') FROM unnest(pks) AS x);
    a.sym := quote_ident(c->>'symbol');
    a.size := quote_ident(c->>'size');
    a.entry := quote_ident(c->>'entry_price');
    a.margin := quote_ident(c->>'margin');
    a.status := quote_ident(c->>'status');
    SELECT format_type(att.atttypid, att.atttypmod) INTO a.symtype
      FROM pg_attribute AS att
     WHERE att.attrelid = positions AND att.attname = c->>'symbol';
    a.read_position := format(
        'SELECT p.%s::pg_catalog.text, p.%s::pg_catalog.numeric, p.%s::pg_catalog.numeric, p.%s::pg_catalog.numeric'
        ' FROM %s AS p, pg_catalog.jsonb_populate_record(NULL::%s, $1) AS k WHERE %s FOR UPDATE OF p',
        a.sym, a.size, a.entry, a.margin, positions, positions, a.key_where);
    a.read_market := format(
        'SELECT @extschema@.checked_mark(%s::pg_catalog.oid::pg_catalog.regclass, $1::pg_catalog.text),'
        ' %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s FROM %s AS i WHERE i.%I = $1::%s',
        positions::pg_catalog.oid,
        CASE WHEN ci->>'kind' IS NULL THEN '''linear''::@extschema@.contract_kind'
             ELSE format('i.%I', ci->>'kind') END,
        CASE WHEN ci->>'contract_size' IS NULL THEN '1::pg_catalog.numeric'
             ELSE format('i.%I::pg_catalog.numeric', ci->>'contract_size') END,
        CASE WHEN ci->>'fee_rate' IS NULL THEN '0::pg_catalog.numeric'
             ELSE format('i.%I::pg_catalog.numeric', ci->>'fee_rate') END,
        CASE WHEN ci->>'rate_kind' = 'mmr' THEN format('i.%I::pg_catalog.numeric', ci->>'rate')
             ELSE 'NULL::pg_catalog.numeric' END,
        CASE WHEN ci->>'rate_kind' = 'tiers' THEN format('i.%I', ci->>'rate')
             ELSE 'NULL::@extschema@.tiers' END,
        CASE WHEN e.fund_column IS NULL THEN '$1::pg_catalog.text'
             ELSE format('i.%I::pg_catalog.text', e.fund_column) END,
        -- the dynamic add-ons enforcement charges (doc/dynamic.md): none when unmapped
        CASE WHEN ci->>'addon_rate' IS NULL THEN '0::pg_catalog.numeric'
             ELSE format('i.%I::pg_catalog.numeric', ci->>'addon_rate') END,
        CASE WHEN ci->>'liquidity_curve' IS NULL THEN 'NULL::pg_catalog.jsonb'
             ELSE format('i.%I::pg_catalog.jsonb', ci->>'liquidity_curve') END,
        -- the venue conventions enforcement reads (doc/venues.md): a column
        -- left out or a NULL takes the default; maintenance_amount with mmr,
        -- tier_basis and bracket_basis with tiers
        CASE WHEN ci->>'mm_basis' IS NULL THEN '''mark''::@extschema@.mm_basis'
             ELSE format('COALESCE(i.%I, ''mark''::@extschema@.mm_basis)', ci->>'mm_basis') END,
        CASE WHEN ci->>'fee_basis' IS NULL THEN '''mark''::@extschema@.fee_basis'
             ELSE format('COALESCE(i.%I, ''mark''::@extschema@.fee_basis)', ci->>'fee_basis') END,
        CASE WHEN ci->>'tier_basis' IS NULL OR ci->>'rate_kind' <> 'tiers'
             THEN '''notional''::@extschema@.tier_basis'
             ELSE format('COALESCE(i.%I, ''notional''::@extschema@.tier_basis)', ci->>'tier_basis') END,
        CASE WHEN ci->>'bracket_basis' IS NULL OR ci->>'rate_kind' <> 'tiers'
             THEN '''price''::@extschema@.bracket_basis'
             ELSE format('COALESCE(i.%I, ''price''::@extschema@.bracket_basis)', ci->>'bracket_basis') END,
        CASE WHEN ci->>'maintenance_amount' IS NULL OR ci->>'rate_kind' <> 'mmr' THEN '0::pg_catalog.numeric'
             ELSE format('COALESCE(i.%I::pg_catalog.numeric, 0)', ci->>'maintenance_amount') END,
        e.instruments, ci->>'symbol', a.symtype);
    a.write_position := format(
        'UPDATE %s AS p SET %s = $2, %s = $3 FROM pg_catalog.jsonb_populate_record(NULL::%s, $1) AS k WHERE %s',
        positions, a.size, a.margin, positions, a.key_where);
    a.policy := e.policy;
    a.symbol_policies := e.symbol_policies;
    RETURN a;
END
$fn$;

-- ---------------------------------------------------------------- auto-deleveraging

-- Assigns what is left of a queued shortfall to the opposite side's
-- positions of the instrument, highest adl_rank (or adl_profit_rank) at the
-- current mark first (primary key breaks ties), skipping positions that are
-- flagged or locked (SKIP LOCKED: a worker is liquidating them): each is
-- reduced at the queued bankruptcy price by close_part's rule (no fee), its
-- cash to its owner's wallet, recorded in adl_fills.  Returns the size
-- assigned by this call; what no position could take stays unassigned.
CREATE FUNCTION @extschema@.adl_assign(queue_id int8, rank_by text DEFAULT 'leverage')
RETURNS numeric
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    qr   @extschema@.adl_queue;
    att  @extschema@.liquidation_attachment;
    mark numeric;
    kd   @extschema@.contract_kind;
    cs   numeric;
    fee  numeric;
    mmr  numeric;
    tr   @extschema@.tiers;
    fund text;
    addon numeric;
    curve jsonb;
    mb   @extschema@.mm_basis;
    fb   @extschema@.fee_basis;
    tb   @extschema@.tier_basis;
    bb   @extschema@.bracket_basis;
    ma   numeric;
    left_size numeric;
    take numeric;
    c    record;
    f    @extschema@.fill_result;
BEGIN
    IF rank_by NOT IN ('leverage', 'profit') THEN
        RAISE EXCEPTION 'rank_by must be leverage or profit' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO qr FROM @extschema@.adl_queue AS q WHERE q.id = queue_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ADL queue entry % does not exist', queue_id USING ERRCODE = '22023';
    END IF;
    att := @extschema@.liquidation_attachment(qr.positions);
    IF att IS NULL THEN
        RAISE EXCEPTION 'table "%" has no liquidation settings', qr.positions USING ERRCODE = '22023';
    END IF;
    EXECUTE att.read_market INTO mark, kd, cs, fee, mmr, tr, fund, addon, curve, mb, fb, tb, bb, ma
        USING qr.symbol;
    left_size := qr.size - qr.assigned_size;
    FOR c IN EXECUTE format(
        'SELECT %s AS key, p.%s::pg_catalog.numeric AS size, p.%s::pg_catalog.numeric AS entry,'
        ' p.%s::pg_catalog.numeric AS margin, @extschema@.%I(p.%s, p.%s, $2, p.%s, $3, $4) AS rank'
        ' FROM %s AS p WHERE p.%s = $1::%s AND p.%s %s 0 AND p.%s < ''liquidate'''
        ' ORDER BY 5 DESC NULLS LAST, %s FOR UPDATE OF p SKIP LOCKED',
        att.key_json, att.size, att.entry, att.margin,
        CASE rank_by WHEN 'profit' THEN 'adl_profit_rank' ELSE 'adl_rank' END,
        att.size, att.entry, att.margin,
        att.positions, att.sym, att.symtype, att.size, CASE qr.side WHEN 'long' THEN '>' ELSE '<' END,
        att.status, att.key_order)
        USING qr.symbol, mark, cs, kd
    LOOP
        EXIT WHEN left_size <= 0;
        take := least(left_size, abs(c.size));
        f := @extschema@.after_fill(c.size, c.entry, c.margin, -sign(c.size) * take, qr.price, cs, kd, 0);
        EXECUTE att.write_position USING c.key, f.size, f.margin;
        INSERT INTO @extschema@.adl_fills (queue_id, position_key, rank, closed_size, price,
                                           released_margin, realized_pnl, cash, size_after, margin_after)
        VALUES (qr.id, c.key, c.rank, take, qr.price, f.released_margin, f.realized_pnl, f.cash,
                f.size, f.margin);
        PERFORM @extschema@.liquidation_ack(att.positions, c.key, 'adl');
        left_size := left_size - take;
    END LOOP;
    UPDATE @extschema@.adl_queue AS q
       SET assigned_size = q.size - left_size, assigned_at = now()
     WHERE q.id = qr.id;
    RETURN qr.size - qr.assigned_size - left_size;
END
$fn$;

-- ---------------------------------------------------------------- the worker

-- Books one liquidation step: locks the fund's row; the closed part's
-- equity at the fill (to_fund) is the fund's, as liquidation fee and
-- settlement; if it is a loss the fund's balance covers, the fund pays it;
-- otherwise the closed contracts go to ADL at the bankruptcy price
-- (settlement 0, the shortfall queued and assigned at once).
CREATE FUNCTION @extschema@.liquidation_book(
    att @extschema@.liquidation_attachment, fund text, symbol text, position_key jsonb,
    event_id int8, worker text, policy jsonb, mark numeric, size numeric, entry_price numeric,
    margin numeric, st @extschema@.liquidation_settlement)
RETURNS int8
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    bal numeric;
    lr  @extschema@.insurance_ledger;
    lid int8;
    qid int8;
BEGIN
    INSERT INTO @extschema@.insurance_funds AS f (positions, fund)
    VALUES (att.positions, liquidation_book.fund) ON CONFLICT (positions, fund) DO NOTHING;
    SELECT f.balance INTO bal FROM @extschema@.insurance_funds AS f
     WHERE f.positions = att.positions AND f.fund = liquidation_book.fund FOR UPDATE;
    lr.positions := att.positions;
    lr.fund := fund;
    lr.entry := 'liquidation';
    lr.symbol := symbol;
    lr.position_key := position_key;
    lr.event_id := event_id;
    lr.worker := worker;
    lr.method := policy->>'method';
    lr.mark_price := mark;
    lr.size_before := size;
    lr.entry_price := entry_price;
    lr.margin_before := margin;
    lr.closed_size := st.closed_size;
    lr.bankruptcy_price := st.bankruptcy_price;
    lr.released_margin := st.released_margin;
    lr.realized_pnl := st.realized_pnl;
    lr.liquidation_fee := st.liquidation_fee;
    lr.size_after := st.size;
    lr.margin_after := st.margin;
    IF st.to_fund >= 0 OR bal + st.to_fund >= 0 THEN
        lr.settlement := st.to_fund - st.liquidation_fee;
        lr.adl_size := 0;
        lr.shortfall := 0;
    ELSE
        lr.settlement := 0;
        lr.adl_size := st.closed_size;
        lr.shortfall := -st.to_fund;
    END IF;
    lr.amount := lr.settlement + st.liquidation_fee;
    lid := @extschema@.insurance_append(lr);
    IF lr.adl_size > 0 THEN
        INSERT INTO @extschema@.adl_queue (ledger_id, positions, symbol, side, size, price, shortfall)
        VALUES (lid, att.positions, symbol, CASE WHEN size > 0 THEN 'short' ELSE 'long' END::@extschema@.position_side,
                lr.adl_size, coalesce(st.bankruptcy_price, mark), lr.shortfall)
        RETURNING id INTO qid;
        PERFORM @extschema@.adl_assign(qid, policy->>'adl_rank');
    END IF;
    RETURN lid;
END
$fn$;

-- Liquidates one position of an attachment, in the caller's transaction:
-- locks it (waiting for a worker that holds it, then seeing what that
-- worker left), reads the mark the positions were last checked against and
-- the instrument, and repeats the policy's steps while the exact check at
-- that mark says liquidate or bankrupt: size the close, settle it at the
-- bankruptcy price, update the position (enforcement re-prices it), book
-- the fund.  A policy with a cooldown takes one step, then leaves a
-- follow-up due when the cooldown ends.  Then acknowledges the position's
-- unclaimed events.  Returns the number of steps taken.  In C
-- (src/liquidation_position.c): the same building blocks, run as plans
-- kept per session (the attachment's statements per positions table).
CREATE FUNCTION @extschema@.liquidate_position(
    positions regclass, position_key jsonb, worker text, event_id int8 DEFAULT NULL)
RETURNS int
AS 'MODULE_PATHNAME', 'liquidate_position'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

-- One piece of work in the caller's transaction: claims the oldest unclaimed
-- liquidate or bankrupt event of a table with liquidation settings whose
-- events the caller may claim (the tables in random order, so that none
-- starves another), or else the earliest due follow-up (taken out of its
-- table), and liquidates its position (liquidate_position).  The event is
-- claimed and acknowledged in one statement, before the liquidation, in the
-- same transaction (so the same outcome): the fund's row, locked by the
-- booking, is then held for less until the commit.  false when there was
-- none.  Call it once per transaction (liquidation_worker does).  In C
-- (src/liquidation_next.c).
CREATE FUNCTION @extschema@.liquidate_next(worker text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'liquidate_next'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;

-- Raises the calling backend's nice value to nice (0 to 19) unless it is
-- already there or above, and its session autogroup's alike (each backend
-- leads a session of its own), and returns the value now in effect: the
-- backend gives way on the CPU to the others (a price feed's) for the rest
-- of its life; no unprivileged process can take it back
-- (src/backend_priority.c).
-- Not granted to PUBLIC: grant it to the worker roles that pass
-- liquidation_worker a nice (doc/liquidation.md, Priority and Rights).
CREATE FUNCTION @extschema@.lower_backend_priority(nice int)
RETURNS int
AS 'MODULE_PATHNAME', 'lower_backend_priority'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
REVOKE EXECUTE ON FUNCTION @extschema@.lower_backend_priority(int) FROM PUBLIC;

-- The worker: liquidate_next and COMMIT, one transaction per position, until
-- no work is left (or max_positions were handled).  Safe in several sessions
-- at once.  CALL it outside a transaction block.  Given a nice, it first
-- lowers its backend's priority to it, for the rest of the session (on the
-- 2-core bench machine, workers at nice 10 or 19 kept a price feed's wait
-- for a core at its level alone: bench/README.md); by default (NULL) it
-- leaves the priority alone, a one-way change the caller opts into and
-- needs a grant for (doc/liquidation.md, Priority).  (No SET search_path: a procedure
-- with one cannot COMMIT; its two operators are qualified.)
CREATE PROCEDURE @extschema@.liquidation_worker(worker text, max_positions int DEFAULT NULL,
                                                nice int DEFAULT NULL)
LANGUAGE plpgsql
AS $fn$
DECLARE
    n int := 0;
BEGIN
    IF nice IS NOT NULL THEN
        PERFORM @extschema@.lower_backend_priority(nice);
    END IF;
    LOOP
        EXIT WHEN max_positions IS NOT NULL AND n OPERATOR(pg_catalog.>=) max_positions;
        EXIT WHEN NOT @extschema@.liquidate_next(worker);
        COMMIT;
        n := n OPERATOR(pg_catalog.+) 1;
    END LOOP;
    COMMIT;
END
$fn$;


-- ---- The reports charge the instruments' add-on rate (issue 18 item 3):
-- _report_book takes `figures` and returns figure_prefix, so it is dropped
-- and created again; shock and liquidation_ladder call the dynamic_* figures
-- when the instruments have an addon_rate column.
DROP FUNCTION @extschema@._report_book(pg_catalog.regclass, pg_catalog.regclass, pg_catalog.regclass, pg_catalog.jsonb);
CREATE FUNCTION @extschema@._report_book(
    positions regclass, marks regclass, instruments regclass, columns jsonb,
    figures boolean DEFAULT false,
    OUT book_sql text, OUT market_sql text, OUT risk_arg text, OUT convention_args text,
    OUT figure_prefix text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    contract jsonb := @extschema@._attachment_contract(positions, marks, instruments, columns, 'report');
    c jsonb := contract -> 'columns';
    rd jsonb := contract -> 'read';
    book_cols text := rd ->> 'conventions';
BEGIN
    risk_arg := rd ->> 'rate_arg';
    convention_args := rd ->> 'convention_args';
    figure_prefix := '';
    IF rd ->> 'addon' IS NOT NULL THEN
        IF figures AND (c #>> '{instruments,mm_basis}' IS NOT NULL
                        OR c #>> '{instruments,fee_basis}' IS NOT NULL
                        OR c #>> '{instruments,tier_basis}' IS NOT NULL
                        OR c #>> '{instruments,bracket_basis}' IS NOT NULL
                        OR c #>> '{instruments,maintenance_amount}' IS NOT NULL) THEN
            RAISE EXCEPTION 'the reports do not support instruments with both addon_rate and a venue convention'
                USING ERRCODE = '0A000',
                      DETAIL = format('Table "%s" has an add-on rate column and venue convention columns; no figure function computes both.',
                                      instruments);
        END IF;
        figure_prefix := 'dynamic_';
        convention_args := ', addon_rate => b.addon_rate';
        book_cols := book_cols || ', ' || (rd ->> 'addon') || ' AS addon_rate';
    END IF;
    market_sql := format(
        'SELECT i.%1$I AS symbol, m.mark_price
           FROM %2$s i JOIN (%3$s) m ON m.symbol OPERATOR(pg_catalog.=) i.%1$I',
        c #>> '{instruments,symbol}', instruments, contract ->> 'current_marks');
    book_sql := format(
        'SELECT %1$s AS position_key, p.%2$I AS symbol,
                %3$s AS size, %4$s AS entry_price, %5$s AS margin,
                %6$s AS kind, %7$s AS contract_size, %8$s AS fee_rate, %9$s AS risk,
                m.mark_price, %14$s
           FROM %10$s p
           JOIN %11$s i ON i.%12$I OPERATOR(pg_catalog.=) p.%2$I
           JOIN (%13$s) m ON m.symbol OPERATOR(pg_catalog.=) p.%2$I',
        contract ->> 'position_key', c #>> '{positions,symbol}',
        rd ->> 'size', rd ->> 'entry_price', rd ->> 'margin',
        rd ->> 'kind', rd ->> 'contract_size', rd ->> 'fee_rate', rd ->> 'rate',
        positions, instruments, c #>> '{instruments,symbol}', contract ->> 'current_marks',
        book_cols);
    IF rd ->> 'status' IS NOT NULL THEN
        book_sql := book_sql || format(
            ' WHERE %1$s IS NULL OR %1$s OPERATOR(pg_catalog.<) CAST(''liquidate'' AS @extschema@.margin_status)',
            rd ->> 'status');
    END IF;
END
$fn$;
CREATE OR REPLACE FUNCTION @extschema@.shock(
    positions regclass, marks regclass, instruments regclass,
    move numeric,
    columns jsonb DEFAULT '{}')
RETURNS TABLE (
    position_key        jsonb,
    symbol              text,
    kind                @extschema@.contract_kind,
    size                numeric,
    entry_price         numeric,
    margin              numeric,
    mark_price          numeric,
    shocked_price       numeric,
    status              @extschema@.margin_status,
    equity              numeric,
    maintenance_margin  numeric,
    shortfall           numeric)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    src record;
    mm text;
BEGIN
    IF move = 'NaN' OR move IN ('Infinity', '-Infinity') OR move <= -1 THEN
        RAISE EXCEPTION 'move must be a finite number greater than -1'
            USING ERRCODE = '22023',
                  DETAIL = format('move is %s.', move),
                  HINT = 'move is a relative price change: -0.2 is a 20% fall.';
    END IF;
    src := @extschema@._report_book(positions, marks, instruments, columns, figures => true);
    -- the maintenance margin at the shocked price: assess's, which takes the
    -- conventions, or with an add-on dynamic_maintenance_margin's
    mm := CASE src.figure_prefix
        WHEN '' THEN format(
            '(@extschema@.assess(size => b.size, entry_price => b.entry_price,
                                mark_price => b.shocked_price, margin => b.margin,
                                %1$s b.risk, contract_size => b.contract_size,
                                kind => b.kind, fee_rate => b.fee_rate%2$s)).maintenance_margin',
            src.risk_arg, src.convention_args)
        ELSE format(
            '@extschema@.dynamic_maintenance_margin(size => b.size, mark_price => b.shocked_price,
                                %1$s b.risk, contract_size => b.contract_size,
                                kind => b.kind, fee_rate => b.fee_rate%2$s)',
            src.risk_arg, src.convention_args) END;
    RETURN QUERY EXECUTE format(
        'SELECT b.position_key, CAST(b.symbol AS pg_catalog.text), b.kind, b.size,
                b.entry_price, b.margin, b.mark_price, b.shocked_price, b.status,
                @extschema@.equity(b.size, b.entry_price, b.shocked_price, b.margin,
                                   b.contract_size, b.kind),
                %3$s,
                @extschema@.shortfall(b.size, b.entry_price, b.shocked_price, b.margin,
                                      b.contract_size, b.kind)
           FROM (SELECT s.*,
                        @extschema@.%5$smargin_status(size => s.size, entry_price => s.entry_price,
                            mark_price => s.shocked_price, margin => s.margin, %1$s s.risk,
                            contract_size => s.contract_size, kind => s.kind,
                            fee_rate => s.fee_rate%4$s) AS status
                   FROM (SELECT bk.*, bk.mark_price OPERATOR(pg_catalog.*)
                                (1 OPERATOR(pg_catalog.+) $1) AS shocked_price
                           FROM (%2$s) bk) s
                 OFFSET 0) b
          WHERE b.status OPERATOR(pg_catalog.>=) CAST(''liquidate'' AS @extschema@.margin_status)',
        src.risk_arg, src.book_sql, mm,
        replace(src.convention_args, '=> b.', '=> s.'), src.figure_prefix)
    USING move;
END
$fn$;

CREATE OR REPLACE FUNCTION @extschema@.liquidation_ladder(
    positions regclass, marks regclass, instruments regclass,
    bucket_width numeric DEFAULT 0.01,
    buckets integer DEFAULT 20,
    columns jsonb DEFAULT '{}')
RETURNS TABLE (
    symbol              text,
    side                text,
    bucket              integer,
    price_low           numeric,
    price_high          numeric,
    mark_price          numeric,
    position_count      bigint,
    size                numeric,
    notional            numeric,
    cumulative_notional numeric)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    src record;
BEGIN
    IF bucket_width = 'NaN' OR bucket_width <= 0 OR bucket_width > 1 THEN
        RAISE EXCEPTION 'bucket_width must be greater than 0 and at most 1'
            USING ERRCODE = '22023',
                  DETAIL = format('bucket_width is %s.', bucket_width),
                  HINT = 'bucket_width is a fraction of the mark: 0.01 makes buckets of 1%.';
    END IF;
    IF buckets < 1 OR buckets > 10000 THEN
        RAISE EXCEPTION 'buckets must be between 1 and 10000'
            USING ERRCODE = '22023', DETAIL = format('buckets is %s.', buckets);
    END IF;
    src := @extschema@._report_book(positions, marks, instruments, columns, figures => true);
    RETURN QUERY EXECUTE format(
        'WITH lp AS (
             SELECT b.symbol, b.mark_price, b.size, b.contract_size, b.kind,
                    @extschema@.%5$sliquidation_price(size => b.size, entry_price => b.entry_price,
                        margin => b.margin, %1$s b.risk, contract_size => b.contract_size,
                        kind => b.kind, fee_rate => b.fee_rate%4$s) AS price
               FROM (%2$s) b
         ), placed AS (
             SELECT lp.*,
                    CAST(OPERATOR(pg_catalog.-) pg_catalog.sign(lp.size) OPERATOR(pg_catalog.*)
                         pg_catalog.ceil(((lp.mark_price OPERATOR(pg_catalog.-) lp.price)
                                          OPERATOR(pg_catalog.*) pg_catalog.sign(lp.size))
                                         OPERATOR(pg_catalog./)
                                         (lp.mark_price OPERATOR(pg_catalog.*) $1))
                         AS pg_catalog.int4) AS bucket
               FROM lp
              WHERE (lp.size OPERATOR(pg_catalog.>) 0 AND lp.price OPERATOR(pg_catalog.<) lp.mark_price)
                 OR (lp.size OPERATOR(pg_catalog.<) 0 AND lp.price OPERATOR(pg_catalog.>) lp.mark_price)
         ), totals AS (
             SELECT placed.symbol, placed.bucket,
                    pg_catalog.count(*) AS positions,
                    pg_catalog.sum(pg_catalog.abs(placed.size)) AS size,
                    pg_catalog.sum(@extschema@.notional(placed.size, placed.price,
                                   placed.contract_size, placed.kind)) AS notional
               FROM placed
              WHERE placed.bucket OPERATOR(pg_catalog.>=) OPERATOR(pg_catalog.-) $2
                AND placed.bucket OPERATOR(pg_catalog.<=) $2
              GROUP BY placed.symbol, placed.bucket
         ), grid AS (
             SELECT mk.symbol, mk.mark_price, k.bucket
               FROM (%3$s) mk
              CROSS JOIN (SELECT OPERATOR(pg_catalog.-) g AS bucket FROM pg_catalog.generate_series(1, $2) g
                          UNION ALL
                          SELECT g FROM pg_catalog.generate_series(1, $2) g) k
         )
         SELECT CAST(g.symbol AS pg_catalog.text),
                CASE WHEN g.bucket OPERATOR(pg_catalog.<) 0 THEN ''long'' ELSE ''short'' END,
                g.bucket,
                g.mark_price OPERATOR(pg_catalog.*) (1 OPERATOR(pg_catalog.+)
                    ((CASE WHEN g.bucket OPERATOR(pg_catalog.<) 0 THEN g.bucket
                           ELSE g.bucket OPERATOR(pg_catalog.-) 1 END) OPERATOR(pg_catalog.*) $1)),
                g.mark_price OPERATOR(pg_catalog.*) (1 OPERATOR(pg_catalog.+)
                    ((CASE WHEN g.bucket OPERATOR(pg_catalog.<) 0 THEN g.bucket OPERATOR(pg_catalog.+) 1
                           ELSE g.bucket END) OPERATOR(pg_catalog.*) $1)),
                g.mark_price,
                COALESCE(t.positions, 0),
                COALESCE(t.size, 0),
                COALESCE(t.notional, 0),
                pg_catalog.sum(COALESCE(t.notional, 0)) OVER (
                    PARTITION BY g.symbol, g.bucket OPERATOR(pg_catalog.<) 0
                    ORDER BY pg_catalog.abs(g.bucket))
           FROM grid g
           LEFT JOIN totals t ON t.symbol OPERATOR(pg_catalog.=) g.symbol
                             AND t.bucket OPERATOR(pg_catalog.=) g.bucket
          ORDER BY 1, 3',
        src.risk_arg, src.book_sql, src.market_sql, src.convention_args, src.figure_prefix)
    USING bucket_width, buckets;
END
$fn$;
-- ---- end of the reports' add-on block ----

-- ---- The figures' planner support function (issue 14 item 8; install/29_figure_support.sql) ----
CREATE FUNCTION @extschema@._figure_support(internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'figure_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

ALTER FUNCTION @extschema@.maintenance_margin(numeric, numeric, numeric, numeric,
    @extschema@.contract_kind, numeric, numeric)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.maintenance_margin(numeric, numeric, @extschema@.tiers, numeric,
    @extschema@.contract_kind, numeric, @extschema@.tier_basis)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.margin_ratio(numeric, numeric, numeric, numeric, numeric, numeric,
    @extschema@.contract_kind, numeric, @extschema@.mm_basis, @extschema@.fee_basis, numeric)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.margin_ratio(numeric, numeric, numeric, numeric, @extschema@.tiers,
    numeric, @extschema@.contract_kind, numeric, @extschema@.mm_basis, @extschema@.fee_basis,
    @extschema@.tier_basis, @extschema@.bracket_basis)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.okx_margin_ratio(numeric, numeric, numeric, numeric, numeric, numeric,
    @extschema@.contract_kind, numeric, @extschema@.mm_basis, @extschema@.fee_basis, numeric)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.okx_margin_ratio(numeric, numeric, numeric, numeric, @extschema@.tiers,
    numeric, @extschema@.contract_kind, numeric, @extschema@.mm_basis, @extschema@.fee_basis,
    @extschema@.tier_basis, @extschema@.bracket_basis)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.margin_status(numeric, numeric, numeric, numeric, numeric, numeric,
    @extschema@.contract_kind, numeric, numeric, @extschema@.mm_basis, @extschema@.fee_basis,
    numeric)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.margin_status(numeric, numeric, numeric, numeric, @extschema@.tiers,
    numeric, @extschema@.contract_kind, numeric, numeric, @extschema@.mm_basis,
    @extschema@.fee_basis, @extschema@.tier_basis, @extschema@.bracket_basis)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.liquidation_price(numeric, numeric, numeric, numeric, numeric,
    @extschema@.contract_kind, numeric, numeric, @extschema@.mm_basis, @extschema@.fee_basis,
    numeric)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.liquidation_price(numeric, numeric, numeric, @extschema@.tiers,
    numeric, @extschema@.contract_kind, numeric, numeric, @extschema@.mm_basis,
    @extschema@.fee_basis, @extschema@.tier_basis, @extschema@.bracket_basis)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.margin_call_price(numeric, numeric, numeric, numeric, numeric,
    @extschema@.contract_kind, numeric, numeric, numeric, @extschema@.mm_basis,
    @extschema@.fee_basis, numeric)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.margin_call_price(numeric, numeric, numeric, @extschema@.tiers,
    numeric, @extschema@.contract_kind, numeric, numeric, numeric, @extschema@.mm_basis,
    @extschema@.fee_basis, @extschema@.tier_basis, @extschema@.bracket_basis)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.assess(numeric, numeric, numeric, numeric, numeric, numeric,
    @extschema@.contract_kind, numeric, numeric, numeric, numeric, @extschema@.mm_basis,
    @extschema@.fee_basis, numeric)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.assess(numeric, numeric, numeric, numeric, @extschema@.tiers,
    numeric, @extschema@.contract_kind, numeric, numeric, numeric, numeric,
    @extschema@.mm_basis, @extschema@.fee_basis, @extschema@.tier_basis,
    @extschema@.bracket_basis)
    SUPPORT @extschema@._figure_support;
-- ---- end of the figures' planner support block ----
-- ---- The liquidity add-on in enforcement (issue 18 item 3): install/33_liquidity_watch.sql,
-- ---- the same text
-- Dynamic requirements, part 2 in enforcement: each instrument's liquidity
-- curve, the liquidity add-on of a position as a function of its size for the
-- current book snapshot, kept in an instruments column that enforcement reads
-- (doc/dynamic.md, doc/enforcement.md).  The curve is built once per snapshot
-- change at the mark enforcement holds then, and fixed until the next: every
-- stored price of a position is the dynamic_* figure with the add-on
-- liquidity_addon(size, that mark, the snapshot's levels, penalty_rate, kind).

-- The liquidity add-on of a position of `size` contracts from a curve that
-- liquidity_curve built (src/liquidity_curve.c): the digits of
-- liquidity_addon at the curve's mark, in O(log levels).
CREATE FUNCTION @extschema@.liquidity_curve_addon(curve pg_catalog.jsonb, size pg_catalog.numeric)
RETURNS pg_catalog.numeric
AS 'MODULE_PATHNAME', 'liquidity_curve_addon'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The liquidity curve of one book snapshot at mark_price: per side (bid: what
-- closes a long; ask: a short) the pieces [from, cost, slope] of the cost of
-- closing q contracts, a piecewise linear function of q: one piece per level
-- of positive size, best first (from: the contracts the better levels fill,
-- cost: what they cost, slope: the level's slippage as liquidity_addon takes
-- it), then [depth, cost of the whole side, worst slippage + penalty] for what
-- the book cannot fill.  The inputs are checked as liquidity_addon checks them.
CREATE FUNCTION @extschema@.liquidity_curve(
    mark_price pg_catalog.numeric,
    bid_prices pg_catalog.numeric[], bid_sizes pg_catalog.numeric[],
    ask_prices pg_catalog.numeric[], ask_sizes pg_catalog.numeric[],
    penalty_rate pg_catalog.numeric,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    inv boolean := kind = 'inverse';
    curve jsonb := jsonb_build_object('kind', kind, 'mark_price', mark_price,
                                      'penalty_rate', penalty_rate);
    side int;
    lp numeric[];
    ls numeric[];
    pieces jsonb;
    worst numeric;
    depth numeric;
    total numeric;
BEGIN
    PERFORM @extschema@.liquidity_addon(0, mark_price, bid_prices, bid_sizes, penalty_rate, kind);
    PERFORM @extschema@.liquidity_addon(0, mark_price, ask_prices, ask_sizes, penalty_rate, kind);
    FOREACH side IN ARRAY ARRAY[1, -1] LOOP
        IF side = 1 THEN
            lp := bid_prices;
            ls := bid_sizes;
        ELSE
            lp := ask_prices;
            ls := ask_sizes;
        END IF;
        WITH lv AS (
            SELECT CASE WHEN inv
                        THEN @extschema@._ceil_div(greatest(side * (mark_price - l.p), 0) * 1e20, l.p) * 1e-20
                        ELSE greatest(side * (mark_price - l.p), 0) END AS slip,
                   l.s, side * l.p AS best, l.ord
              FROM unnest(lp, ls) WITH ORDINALITY AS l(p, s, ord)),
        w AS (
            SELECT lv.*, coalesce(sum(lv.s) OVER o, 0) AS before,
                   coalesce(sum(lv.slip * lv.s) OVER o, 0) AS cost_before
              FROM lv
            WINDOW o AS (ORDER BY lv.best DESC, lv.ord
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING))
        SELECT coalesce(jsonb_agg(jsonb_build_array(w.before, w.cost_before, w.slip)
                                  ORDER BY w.best DESC, w.ord) FILTER (WHERE w.s > 0), '[]'),
               coalesce(max(w.slip), 0), coalesce(sum(w.s), 0), coalesce(sum(w.slip * w.s), 0)
          INTO pieces, worst, depth, total
          FROM w;
        pieces := pieces || jsonb_build_array(jsonb_build_array(
                      depth, total,
                      worst + CASE WHEN inv THEN penalty_rate ELSE penalty_rate * mark_price END));
        curve := curve || jsonb_build_object(CASE WHEN side = 1 THEN 'bid' ELSE 'ask' END, pieces);
    END LOOP;
    RETURN curve;
END
$fn$;

-- One row per book watched for an enforced positions table
-- (isomargin.watch_liquidity).
CREATE SEQUENCE @extschema@.liquidity_watches_id_seq AS pg_catalog.int4;
CREATE TABLE @extschema@.liquidity_watches (
    id            pg_catalog.int4 NOT NULL
                  DEFAULT pg_catalog.nextval('@extschema@.liquidity_watches_id_seq'::pg_catalog.regclass)
                  PRIMARY KEY,
    positions     pg_catalog.regclass NOT NULL UNIQUE,
    book          pg_catalog.regclass NOT NULL UNIQUE,
    symbol_column pg_catalog.name NOT NULL,
    side_column   pg_catalog.name NOT NULL,
    price_column  pg_catalog.name NOT NULL,
    size_column   pg_catalog.name NOT NULL,
    penalty_rate  pg_catalog.numeric NOT NULL
);
ALTER SEQUENCE @extschema@.liquidity_watches_id_seq OWNED BY @extschema@.liquidity_watches.id;
COMMENT ON TABLE @extschema@.liquidity_watches IS
    'isomargin dynamic requirements: the order-book tables watched for the liquidity curves of an enforced book';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.liquidity_watches', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.liquidity_watches_id_seq', '');

-- Internal: rebuild the liquidity curves of the instruments `symbols` (text)
-- from the book, each at the mark enforcement holds for it, in symbol order.
-- Per instrument: its row is locked first (a concurrent book change of the
-- same instrument waits, then reads the book with the first one's levels), a
-- curve that changes is written to the instruments' curve column (the
-- instruments trigger re-prices and re-flags the positions) and recorded in
-- isomargin.addon_changes with its cause.  An instrument without a mark yet
-- keeps its curve; a symbol that is no instrument is ignored.  Returns how
-- many curves changed.
CREATE FUNCTION @extschema@._liquidity_refresh(w @extschema@.liquidity_watches,
                                               symbols pg_catalog.text[])
RETURNS pg_catalog.int4
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    e @extschema@.enforcement;
    ci jsonb;
    sym_type text;
    kind_sql text;
    sym text;
    found_row boolean;
    kind @extschema@.contract_kind;
    old_curve jsonb;
    mark numeric;
    bp numeric[];
    bs numeric[];
    ap numeric[];
    az numeric[];
    curve jsonb;
    changed int4 := 0;
BEGIN
    SELECT x.* INTO e FROM @extschema@.enforcement x WHERE x.positions = w.positions;
    IF NOT FOUND OR e.columns #>> '{instruments,liquidity_curve}' IS NULL THEN
        RAISE EXCEPTION 'table % is not enforced with a liquidity_curve column', w.positions
            USING ERRCODE = '22023',
                  HINT = format('Run isomargin.unwatch_liquidity(%L).', w.book::text);
    END IF;
    ci := e.columns -> 'instruments';
    SELECT format_type(a.atttypid, NULL) INTO sym_type FROM pg_attribute a
     WHERE a.attrelid = e.instruments AND a.attname = ci ->> 'symbol';
    kind_sql := CASE WHEN ci ->> 'kind' IS NULL THEN '''linear'''
                     ELSE format('CAST(CAST(i.%I AS pg_catalog.text) AS @extschema@.contract_kind)',
                                 ci ->> 'kind') END;
    FOR sym IN SELECT DISTINCT s FROM unnest(symbols) AS s WHERE s IS NOT NULL ORDER BY 1 LOOP
        EXECUTE format('SELECT true, %s, i.%I FROM %s i WHERE i.%I OPERATOR(pg_catalog.=) CAST($1 AS %s)
                         FOR NO KEY UPDATE',
                       kind_sql, ci ->> 'liquidity_curve', e.instruments, ci ->> 'symbol', sym_type)
           INTO found_row, kind, old_curve USING sym;
        CONTINUE WHEN found_row IS NULL;
        mark := @extschema@.checked_mark(w.positions, sym);
        CONTINUE WHEN mark IS NULL;
        EXECUTE format(
            'SELECT pg_catalog.array_agg(CAST(b.%2$I AS pg_catalog.numeric)) FILTER (WHERE CAST(b.%4$I AS pg_catalog.text) OPERATOR(pg_catalog.=) ''bid''),
                    pg_catalog.array_agg(CAST(b.%3$I AS pg_catalog.numeric)) FILTER (WHERE CAST(b.%4$I AS pg_catalog.text) OPERATOR(pg_catalog.=) ''bid''),
                    pg_catalog.array_agg(CAST(b.%2$I AS pg_catalog.numeric)) FILTER (WHERE CAST(b.%4$I AS pg_catalog.text) OPERATOR(pg_catalog.=) ''ask''),
                    pg_catalog.array_agg(CAST(b.%3$I AS pg_catalog.numeric)) FILTER (WHERE CAST(b.%4$I AS pg_catalog.text) OPERATOR(pg_catalog.=) ''ask'')
               FROM %1$s b WHERE CAST(b.%5$I AS pg_catalog.text) OPERATOR(pg_catalog.=) $1',
            w.book, w.price_column, w.size_column, w.side_column, w.symbol_column)
           INTO bp, bs, ap, az USING sym;
        curve := @extschema@.liquidity_curve(mark, coalesce(bp, '{}'), coalesce(bs, '{}'),
                                             coalesce(ap, '{}'), coalesce(az, '{}'),
                                             w.penalty_rate, kind);
        CONTINUE WHEN curve IS NOT DISTINCT FROM old_curve;
        EXECUTE format('UPDATE %s i SET %I = $1 WHERE i.%I OPERATOR(pg_catalog.=) CAST($2 AS %s)',
                       e.instruments, ci ->> 'liquidity_curve', ci ->> 'symbol', sym_type)
          USING curve, sym;
        INSERT INTO @extschema@.addon_changes (instruments, symbol, old_rate, new_rate, cause)
        VALUES (e.instruments, sym, NULL, NULL,
                jsonb_build_object('source', 'liquidity', 'watch', w.id, 'book', w.book::text,
                                   'mark_price', mark, 'penalty_rate', w.penalty_rate,
                                   'bid_levels', coalesce(cardinality(bp), 0),
                                   'ask_levels', coalesce(cardinality(ap), 0),
                                   'curve', curve));
        changed := changed + 1;
    END LOOP;
    RETURN changed;
END
$fn$;

-- The statement triggers on a watched book: rebuild the curves of the
-- instruments whose levels the statement inserted, updated or deleted (every
-- instrument with a curve after a TRUNCATE).  Argument: the watch id.
CREATE FUNCTION @extschema@.liquidity_trigger()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    w @extschema@.liquidity_watches;
    e @extschema@.enforcement;
    syms text[];
BEGIN
    IF TG_LEVEL <> 'STATEMENT' OR TG_WHEN <> 'AFTER' OR TG_NARGS <> 1 THEN
        RAISE EXCEPTION 'isomargin.liquidity_trigger must be an AFTER statement trigger with the watch id'
            USING ERRCODE = '39P01';
    END IF;
    SELECT * INTO w FROM @extschema@.liquidity_watches x
     WHERE x.id::text = TG_ARGV[0] AND x.book = TG_RELID;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table % has no liquidity watch %', TG_RELID::regclass, TG_ARGV[0]
            USING ERRCODE = '39P01';
    END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('SELECT pg_catalog.array_agg(DISTINCT CAST(n.%I AS pg_catalog.text)) FROM isomargin_new_levels n',
                       w.symbol_column) INTO syms;
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE format('SELECT pg_catalog.array_agg(DISTINCT s) FROM (
                            SELECT CAST(n.%1$I AS pg_catalog.text) FROM isomargin_new_levels n
                            UNION ALL SELECT CAST(o.%1$I AS pg_catalog.text) FROM isomargin_old_levels o) AS x(s)',
                       w.symbol_column) INTO syms;
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE format('SELECT pg_catalog.array_agg(DISTINCT CAST(o.%I AS pg_catalog.text)) FROM isomargin_old_levels o',
                       w.symbol_column) INTO syms;
    ELSE
        SELECT x.* INTO e FROM @extschema@.enforcement x WHERE x.positions = w.positions;
        IF FOUND AND e.columns #>> '{instruments,liquidity_curve}' IS NOT NULL THEN
            EXECUTE format('SELECT pg_catalog.array_agg(CAST(i.%I AS pg_catalog.text)) FROM %s i WHERE i.%I IS NOT NULL',
                           e.columns #>> '{instruments,symbol}', e.instruments,
                           e.columns #>> '{instruments,liquidity_curve}') INTO syms;
        END IF;
    END IF;
    PERFORM @extschema@._liquidity_refresh(w, coalesce(syms, '{}'));
    RETURN NULL;
END
$fn$;

-- Watches an order-book table (one row per level: symbol, side 'bid' or
-- 'ask', price, size in contracts; columns maps book.symbol, book.side,
-- book.price, book.size) for the enforced positions table `positions`, whose
-- attachment maps an instruments column liquidity_curve (jsonb): builds the
-- curve of every instrument the book has levels of, then keeps the curves
-- current with statement triggers on INSERT, UPDATE, DELETE and TRUNCATE of
-- the book.  Returns the watch id.
CREATE FUNCTION @extschema@.watch_liquidity(
    positions pg_catalog.regclass, book pg_catalog.regclass,
    penalty_rate pg_catalog.numeric, columns pg_catalog.jsonb DEFAULT '{}')
RETURNS pg_catalog.int4
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    w @extschema@.liquidity_watches;
    k text;
    syms text[];
    known text[] := ARRAY['book.symbol', 'book.side', 'book.price', 'book.size'];
BEGIN
    IF positions IS NULL OR book IS NULL OR penalty_rate IS NULL OR columns IS NULL THEN
        RAISE EXCEPTION 'positions, book, penalty_rate and columns must not be null'
            USING ERRCODE = '22023';
    END IF;
    IF jsonb_typeof(columns) <> 'object' THEN
        RAISE EXCEPTION 'columns must be a JSON object' USING ERRCODE = '22023';
    END IF;
    FOR k IN SELECT jsonb_object_keys(columns) LOOP
        IF NOT k = ANY (known) OR jsonb_typeof(columns -> k) <> 'string' THEN
            RAISE EXCEPTION 'unknown key "%" in columns, or not a column name', k
                USING ERRCODE = '22023', DETAIL = 'Known keys: ' || array_to_string(known, ', ') || '.';
        END IF;
    END LOOP;
    IF NOT (penalty_rate >= 0 AND penalty_rate < 'Infinity') THEN
        RAISE EXCEPTION 'penalty_rate must not be negative'
            USING ERRCODE = '22023', DETAIL = format('penalty_rate is %s.', penalty_rate);
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.enforcement x WHERE x.positions = watch_liquidity.positions) THEN
        RAISE EXCEPTION 'table "%" is not enforced', positions USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.enforcement x WHERE x.positions = watch_liquidity.positions
                    AND x.columns #>> '{instruments,liquidity_curve}' IS NOT NULL) THEN
        RAISE EXCEPTION 'the enforcement of table "%" has no liquidity_curve column', positions
            USING ERRCODE = '22023',
                  HINT = 'Add a jsonb column liquidity_curve to the instruments table (or map one with columns => ''{"liquidity_curve": "..."}'') before isomargin.enforce().';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = book AND c.relkind IN ('r', 'p')) THEN
        RAISE EXCEPTION '% is not a table', book USING ERRCODE = '22023';
    END IF;
    w.positions := positions;
    w.book := book;
    w.symbol_column := coalesce(columns ->> 'book.symbol', 'symbol');
    w.side_column := coalesce(columns ->> 'book.side', 'side');
    w.price_column := coalesce(columns ->> 'book.price', 'price');
    w.size_column := coalesce(columns ->> 'book.size', 'size');
    w.penalty_rate := penalty_rate;
    FOREACH k IN ARRAY ARRAY[w.symbol_column, w.side_column, w.price_column, w.size_column] LOOP
        IF NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = book AND a.attname = k
                        AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column "%" of table % does not exist', k, book
                USING ERRCODE = '22023';
        END IF;
    END LOOP;
    IF EXISTS (SELECT FROM @extschema@.liquidity_watches x
                WHERE x.book = watch_liquidity.book OR x.positions = watch_liquidity.positions) THEN
        RAISE EXCEPTION 'table % or table % is already watched', book, positions
            USING ERRCODE = '22023';
    END IF;
    w.id := nextval('@extschema@.liquidity_watches_id_seq');
    INSERT INTO @extschema@.liquidity_watches SELECT w.*;
    EXECUTE format('SELECT pg_catalog.array_agg(DISTINCT CAST(b.%I AS pg_catalog.text)) FROM %s b',
                   w.symbol_column, book) INTO syms;
    PERFORM @extschema@._liquidity_refresh(w, coalesce(syms, '{}'));
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS isomargin_new_levels
                    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.liquidity_trigger(%L)',
                   'isomargin_liquidity_' || w.id || '_insert', book, w.id);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s
                    REFERENCING OLD TABLE AS isomargin_old_levels NEW TABLE AS isomargin_new_levels
                    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.liquidity_trigger(%L)',
                   'isomargin_liquidity_' || w.id || '_update', book, w.id);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS isomargin_old_levels
                    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.liquidity_trigger(%L)',
                   'isomargin_liquidity_' || w.id || '_delete', book, w.id);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s
                    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.liquidity_trigger(%L)',
                   'isomargin_liquidity_' || w.id || '_truncate', book, w.id);
    RETURN w.id;
END
$fn$;

-- Stops a watch: drops its triggers.  The curves it wrote stay in the
-- instruments table (set them to NULL to stop charging them).
CREATE FUNCTION @extschema@.unwatch_liquidity(book pg_catalog.regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    wid int4;
    op text;
BEGIN
    DELETE FROM @extschema@.liquidity_watches x WHERE x.book = unwatch_liquidity.book
    RETURNING x.id INTO wid;
    IF wid IS NULL THEN
        RAISE EXCEPTION 'table % is not watched', book USING ERRCODE = '22023';
    END IF;
    FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', 'isomargin_liquidity_' || wid || '_' || op, book);
    END LOOP;
END
$fn$;
-- ---- end of the liquidity add-on block ----

-- ---- Row security of the liquidation engine's tables (issue 16, issue 19's model):
-- ---- install/57_liquidation_rls.sql, the same text
-- Row security of the liquidation engine's tables (doc/liquidation.md,
-- Rights): a role sees the rows of the positions tables whose events it may
-- read (events_granted's rule: the table's owner's privileges, or an event
-- grant of either kind) and writes those of the tables whose events it may
-- claim (the owner's privileges, or a claim grant), so a worker confined to
-- one book by grant_events is confined here too.  As on isomargin.events,
-- not FORCE: the tables' owner (the extension's) and superusers and roles
-- with BYPASSRLS see and write every row.

-- The rule, in C (src/liquidation_rows.c): the answer for each positions
-- table is kept for the transaction with the claim grant's (the worker asks
-- it once a liquidation), so a policy costs a lookup a row, not a query.
-- false for a table that no longer exists (its rows: the owner's only).
CREATE FUNCTION @extschema@.liquidation_rows_granted(positions pg_catalog.regclass,
                                                     claim pg_catalog.bool)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'liquidation_rows_granted'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- The ledger and the ADL fills are append-only: no UPDATE or DELETE policy,
-- so even a role granted them changes no row (and the ledger's trigger
-- refuses its own rows' changes to the owner too).
ALTER TABLE @extschema@.insurance_ledger ENABLE ROW LEVEL SECURITY;
CREATE POLICY ledger_granted ON @extschema@.insurance_ledger FOR SELECT
    USING (@extschema@.liquidation_rows_granted(positions, false));
CREATE POLICY ledger_append ON @extschema@.insurance_ledger FOR INSERT
    WITH CHECK (@extschema@.liquidation_rows_granted(positions, true));

ALTER TABLE @extschema@.insurance_funds ENABLE ROW LEVEL SECURITY;
CREATE POLICY funds_granted ON @extschema@.insurance_funds FOR SELECT
    USING (@extschema@.liquidation_rows_granted(positions, false));
CREATE POLICY funds_open ON @extschema@.insurance_funds FOR INSERT
    WITH CHECK (@extschema@.liquidation_rows_granted(positions, true));
CREATE POLICY funds_move ON @extschema@.insurance_funds FOR UPDATE
    USING (@extschema@.liquidation_rows_granted(positions, true))
    WITH CHECK (@extschema@.liquidation_rows_granted(positions, true));

ALTER TABLE @extschema@.adl_queue ENABLE ROW LEVEL SECURITY;
CREATE POLICY adl_queue_granted ON @extschema@.adl_queue FOR SELECT
    USING (@extschema@.liquidation_rows_granted(positions, false));
CREATE POLICY adl_queue_add ON @extschema@.adl_queue FOR INSERT
    WITH CHECK (@extschema@.liquidation_rows_granted(positions, true));
CREATE POLICY adl_queue_assign ON @extschema@.adl_queue FOR UPDATE
    USING (@extschema@.liquidation_rows_granted(positions, true))
    WITH CHECK (@extschema@.liquidation_rows_granted(positions, true));

-- A fill has no positions column: its queue entry's, read under the queue's
-- own policies.
ALTER TABLE @extschema@.adl_fills ENABLE ROW LEVEL SECURITY;
CREATE POLICY adl_fills_granted ON @extschema@.adl_fills FOR SELECT
    USING (EXISTS (SELECT 1 FROM @extschema@.adl_queue AS q
                    WHERE q.id OPERATOR(pg_catalog.=) adl_fills.queue_id
                      AND @extschema@.liquidation_rows_granted(q.positions, false)));
CREATE POLICY adl_fills_add ON @extschema@.adl_fills FOR INSERT
    WITH CHECK (EXISTS (SELECT 1 FROM @extschema@.adl_queue AS q
                         WHERE q.id OPERATOR(pg_catalog.=) adl_fills.queue_id
                           AND @extschema@.liquidation_rows_granted(q.positions, true)));

ALTER TABLE @extschema@.liquidation_followups ENABLE ROW LEVEL SECURITY;
CREATE POLICY followups_granted ON @extschema@.liquidation_followups FOR SELECT
    USING (@extschema@.liquidation_rows_granted(positions, false));
CREATE POLICY followups_write ON @extschema@.liquidation_followups FOR ALL
    USING (@extschema@.liquidation_rows_granted(positions, true))
    WITH CHECK (@extschema@.liquidation_rows_granted(positions, true));

-- The settings: a worker lists only its books (liquidate_next) and reads
-- no other book's policy; liquidation_setup writes them as its caller.
ALTER TABLE @extschema@.liquidation_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY settings_granted ON @extschema@.liquidation_settings FOR SELECT
    USING (@extschema@.liquidation_rows_granted(positions, false));
CREATE POLICY settings_write ON @extschema@.liquidation_settings FOR ALL
    USING (@extschema@.liquidation_rows_granted(positions, true))
    WITH CHECK (@extschema@.liquidation_rows_granted(positions, true));

-- A view reads its tables with its owner's rights, and so under the owner's
-- row security (none: the owner bypasses it): the balances are computed
-- with the reader's, so a confined worker sums only its books' rows.
ALTER VIEW @extschema@.insurance_balances SET (security_invoker = true);
-- ---- end of the liquidation row security block ----
