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
