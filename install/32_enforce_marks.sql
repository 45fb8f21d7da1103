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
