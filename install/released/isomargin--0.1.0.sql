-- isomargin install script, assembled from install/*.sql by the Makefile.
\echo Use "CREATE EXTENSION isomargin" to load this file. \quit

-- The schema is created by CREATE EXTENSION (control file: schema = isomargin).
-- A schema of that name made beforehand by another role could hold objects
-- planted to be picked up by the extension's SQL: refuse it.
DO $guard$
BEGIN
    IF (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname = 'isomargin')
       OPERATOR(pg_catalog.<>) (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER) THEN
        RAISE EXCEPTION 'schema "isomargin" already exists and is owned by another role'
            USING ERRCODE = '42501',
                  HINT = 'Drop or rename that schema, or install as its owner.';
    END IF;
END
$guard$;

CREATE TYPE @extschema@.contract_kind AS ENUM ('linear', 'inverse');
COMMENT ON TYPE @extschema@.contract_kind IS
    'linear: quote-settled, notional = |size| * contract_size * price; inverse: coin-settled, notional = |size| * contract_size / price';

-- In order of severity: the enum's sort order is the order of the maintenance check.
CREATE TYPE @extschema@.margin_status AS ENUM ('ok', 'margin_call', 'liquidate', 'bankrupt');
COMMENT ON TYPE @extschema@.margin_status IS
    'maintenance check result, in order of severity: ok < margin_call < liquidate < bankrupt';

CREATE TYPE @extschema@.assessment AS (
    notional            numeric,
    unrealized_pnl      numeric,
    equity              numeric,
    initial_margin      numeric,
    maintenance_margin  numeric,
    margin_ratio        numeric,
    status              @extschema@.margin_status,
    liquidation_price   numeric,
    margin_call_price   numeric,
    bankruptcy_price    numeric
);
COMMENT ON TYPE @extschema@.assessment IS 'every isolated-margin figure of one position at one mark price (isomargin.assess)';
-- Core figures of one position with a flat maintenance margin rate.
-- Reference: README.md "Functions" and doc/formulas.md.

CREATE FUNCTION @extschema@.notional(
    size numeric, price numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
AS 'MODULE_PATHNAME', 'notional'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.unrealized_pnl(
    size numeric, entry_price numeric, mark_price numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
AS 'MODULE_PATHNAME', 'unrealized_pnl'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.equity(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
AS 'MODULE_PATHNAME', 'equity'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.initial_margin(
    size numeric, price numeric, leverage numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
AS 'MODULE_PATHNAME', 'initial_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.maintenance_margin(
    size numeric, mark_price numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'maintenance_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.margin_ratio(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'margin_ratio'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.margin_status(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8)
RETURNS @extschema@.margin_status
AS 'MODULE_PATHNAME', 'margin_status'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.liquidation_price(
    size numeric, entry_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'liquidation_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.margin_call_price(
    size numeric, entry_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'margin_call_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.bankruptcy_price(
    size numeric, entry_price numeric, margin numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'bankruptcy_price'
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
    leverage numeric DEFAULT NULL)
RETURNS @extschema@.assessment
AS 'MODULE_PATHNAME', 'assess'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- isomargin.tiers: a schedule of maintenance margin brackets (doc/tiers.md).

CREATE TYPE @extschema@.tiers;

CREATE FUNCTION @extschema@.tiers_in(pg_catalog.cstring)
RETURNS @extschema@.tiers
AS 'MODULE_PATHNAME', 'tiers_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tiers_out(@extschema@.tiers)
RETURNS pg_catalog.cstring
AS 'MODULE_PATHNAME', 'tiers_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tiers_recv(pg_catalog.internal)
RETURNS @extschema@.tiers
AS 'MODULE_PATHNAME', 'tiers_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tiers_send(@extschema@.tiers)
RETURNS pg_catalog.bytea
AS 'MODULE_PATHNAME', 'tiers_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.tiers (
    INPUT = @extschema@.tiers_in,
    OUTPUT = @extschema@.tiers_out,
    RECEIVE = @extschema@.tiers_recv,
    SEND = @extschema@.tiers_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE @extschema@.tiers IS
    'maintenance margin brackets: per bracket notional floor and cap, mmr, maintenance amount, max leverage';

CREATE FUNCTION @extschema@.tiers_eq(@extschema@.tiers, @extschema@.tiers)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'tiers_eq'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tiers_ne(@extschema@.tiers, @extschema@.tiers)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'tiers_ne'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tiers_hash(@extschema@.tiers)
RETURNS pg_catalog.int4
AS 'MODULE_PATHNAME', 'tiers_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tiers_hash_extended(@extschema@.tiers, pg_catalog.int8)
RETURNS pg_catalog.int8
AS 'MODULE_PATHNAME', 'tiers_hash_extended'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR @extschema@.= (
    LEFTARG = @extschema@.tiers,
    RIGHTARG = @extschema@.tiers,
    FUNCTION = @extschema@.tiers_eq,
    COMMUTATOR = OPERATOR(@extschema@.=),
    NEGATOR = OPERATOR(@extschema@.<>),
    RESTRICT = pg_catalog.eqsel,
    JOIN = pg_catalog.eqjoinsel,
    HASHES
);

CREATE OPERATOR @extschema@.<> (
    LEFTARG = @extschema@.tiers,
    RIGHTARG = @extschema@.tiers,
    FUNCTION = @extschema@.tiers_ne,
    COMMUTATOR = OPERATOR(@extschema@.<>),
    NEGATOR = OPERATOR(@extschema@.=),
    RESTRICT = pg_catalog.neqsel,
    JOIN = pg_catalog.neqjoinsel
);

CREATE OPERATOR CLASS @extschema@.tiers_hash_ops
DEFAULT FOR TYPE @extschema@.tiers USING hash AS
    OPERATOR 1 @extschema@.= (@extschema@.tiers, @extschema@.tiers),
    FUNCTION 1 @extschema@.tiers_hash(@extschema@.tiers),
    FUNCTION 2 @extschema@.tiers_hash_extended(@extschema@.tiers, pg_catalog.int8);

-- Exchange formats (doc/tiers.md): client-library leverage tiers or the
-- exchange's raw leverage brackets in; client-library tiers out.
CREATE FUNCTION @extschema@.tiers(pg_catalog.jsonb)
RETURNS @extschema@.tiers
AS 'MODULE_PATHNAME', 'tiers'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tiers_to_jsonb(tiers @extschema@.tiers)
RETURNS pg_catalog.jsonb
AS 'MODULE_PATHNAME', 'tiers_to_jsonb'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Bracket i holds notionals N with floor < N <= cap (N = 0: bracket 1);
-- above the last cap, bracket() gives the last bracket and max_leverage()
-- raises an error.
CREATE FUNCTION @extschema@.bracket(tiers @extschema@.tiers, notional pg_catalog.numeric)
RETURNS pg_catalog.int4
AS 'MODULE_PATHNAME', 'bracket'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.max_leverage(tiers @extschema@.tiers, notional pg_catalog.numeric)
RETURNS pg_catalog.numeric
AS 'MODULE_PATHNAME', 'max_leverage'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.max_notional(tiers @extschema@.tiers, leverage pg_catalog.numeric)
RETURNS pg_catalog.numeric
AS 'MODULE_PATHNAME', 'max_notional'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- The core figures with a bracket schedule (isomargin.tiers) in place of a
-- flat mmr: the same C functions, which read the rule by the declared type.
-- The maintenance margin uses the bracket of the notional at the evaluated
-- price; the liquidation and margin-call prices are the tier-consistent roots
-- (doc/formulas.md, "Tiers").

CREATE FUNCTION @extschema@.maintenance_margin(
    size numeric, mark_price numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'maintenance_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.margin_ratio(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'margin_ratio'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.margin_status(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8)
RETURNS @extschema@.margin_status
AS 'MODULE_PATHNAME', 'margin_status'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.liquidation_price(
    size numeric, entry_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'liquidation_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.margin_call_price(
    size numeric, entry_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    tick_size numeric DEFAULT 0)
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
    leverage numeric DEFAULT NULL)
RETURNS @extschema@.assessment
AS 'MODULE_PATHNAME', 'assess'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- Enforcement: triggers that keep an attached positions table's stored prices and
-- statuses current as marks and instruments change.  Reference: doc/enforcement.md.

-- One row per attachment (isomargin.enforce).  Dumped with the data so that
-- dump and restore keep attachments: the triggers name their row by id.
CREATE SEQUENCE @extschema@.enforcement_id_seq AS pg_catalog.int4;
CREATE TABLE @extschema@.enforcement (
    id                pg_catalog.int4 NOT NULL
                      DEFAULT pg_catalog.nextval('@extschema@.enforcement_id_seq'::pg_catalog.regclass)
                      PRIMARY KEY,
    positions         pg_catalog.regclass NOT NULL UNIQUE,
    marks             pg_catalog.regclass NOT NULL,
    instruments       pg_catalog.regclass NOT NULL,
    state_table       pg_catalog.regclass,
    columns           pg_catalog.jsonb NOT NULL,
    margin_call_ratio pg_catalog.numeric NOT NULL DEFAULT 0.8,
    indexes           pg_catalog.text[] NOT NULL DEFAULT '{}',  -- names: created after the data on restore
    triggers          pg_catalog.jsonb NOT NULL DEFAULT '{}',
    added_columns     pg_catalog.text[] NOT NULL DEFAULT '{}',
    created_at        pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE @extschema@.enforcement_id_seq OWNED BY @extschema@.enforcement.id;
COMMENT ON TABLE @extschema@.enforcement IS
    'isomargin enforcement attachments: tables, column mapping and what enforce() created for each';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.enforcement', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.enforcement_id_seq', '');

-- One row per status change of an enforced position.  Liquidation workers
-- claim rows with isomargin.claim_events (FOR UPDATE SKIP LOCKED).
CREATE SEQUENCE @extschema@.events_id_seq AS pg_catalog.int8;
CREATE TABLE @extschema@.events (
    id                 pg_catalog.int8 NOT NULL
                       DEFAULT pg_catalog.nextval('@extschema@.events_id_seq'::pg_catalog.regclass)
                       PRIMARY KEY,
    positions          pg_catalog.regclass NOT NULL,
    position_key       pg_catalog.jsonb NOT NULL,
    symbol             pg_catalog.text NOT NULL,
    old_status         @extschema@.margin_status,
    new_status         @extschema@.margin_status NOT NULL,
    mark_price         pg_catalog.numeric,
    equity             pg_catalog.numeric,
    maintenance_margin pg_catalog.numeric,
    created_at         pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    claimed_by         pg_catalog.text,
    claimed_at         pg_catalog.timestamptz
);
ALTER SEQUENCE @extschema@.events_id_seq OWNED BY @extschema@.events.id;
CREATE INDEX events_unclaimed ON @extschema@.events (id) WHERE claimed_at IS NULL;
COMMENT ON TABLE @extschema@.events IS
    'isomargin enforcement: one row per status change of an enforced position; NOTIFY isomargin_events carries the id';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.events', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.events_id_seq', '');

-- Claims up to max_events unclaimed events, oldest first, for one worker.
-- Concurrent callers never get the same event (FOR UPDATE SKIP LOCKED); a
-- claim rolled back with the caller's transaction is claimable again.
CREATE FUNCTION @extschema@.claim_events(worker pg_catalog.text, max_events pg_catalog.int4 DEFAULT 1)
RETURNS SETOF @extschema@.events
LANGUAGE sql STRICT VOLATILE
AS $fn$
    UPDATE @extschema@.events AS e
       SET claimed_by = claim_events.worker, claimed_at = pg_catalog.clock_timestamp()
      FROM (SELECT u.id FROM @extschema@.events AS u
             WHERE u.claimed_at IS NULL
             ORDER BY u.id
             LIMIT claim_events.max_events
             FOR UPDATE SKIP LOCKED) AS c
     WHERE e.id OPERATOR(pg_catalog.=) c.id
    RETURNING e.*
$fn$;

CREATE FUNCTION @extschema@.enforce_positions_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'enforce_positions_trigger' LANGUAGE C;
CREATE FUNCTION @extschema@.enforce_marks_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'enforce_marks_trigger' LANGUAGE C;
CREATE FUNCTION @extschema@.enforce_instruments_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'enforce_instruments_trigger' LANGUAGE C;

-- Attaches enforcement to three tables of the caller's (doc/enforcement.md).
CREATE FUNCTION @extschema@.enforce(
    positions pg_catalog.regclass,
    marks pg_catalog.regclass,
    instruments pg_catalog.regclass,
    columns pg_catalog.jsonb DEFAULT '{}')
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    pos     regclass := enforce.positions;
    mk      regclass := enforce.marks;
    ins     regclass := enforce.instruments;
    map     jsonb := enforce.columns;
    known   text[] := ARRAY['symbol', 'positions.symbol', 'marks.symbol', 'instruments.symbol',
                            'size', 'entry_price', 'margin', 'liquidation_price',
                            'margin_call_price', 'bankruptcy_price', 'status',
                            'status_changed_at', 'mark_price', 'mark_time', 'kind',
                            'contract_size', 'mmr', 'tiers', 'fee_rate'];
    k       text;
    v       jsonb;
    c       jsonb := '{}';      -- key -> column name, resolved
    colrec  record;
    typ     oid;
    symtype oid;
    symtypmod int4;
    symcoll oid;
    rate    text;
    ratekind text;
    added   text[] := '{}';
    idx     text[] := '{}';
    trg     jsonb;
    att_id  int4;
    st      text;
    state   regclass;
    dup     text;
    bad     text;
    coll    text := '';
    owner   oid;
BEGIN
    IF pos IS NULL OR mk IS NULL OR ins IS NULL THEN
        RAISE EXCEPTION 'positions, marks and instruments must not be null'
            USING ERRCODE = '22023';
    END IF;
    IF map IS NULL OR jsonb_typeof(map) <> 'object' THEN
        RAISE EXCEPTION 'columns must be a JSON object'
            USING ERRCODE = '22023',
                  HINT = 'Map isomargin''s column names to yours, e.g. {"mark_price": "px"}.';
    END IF;
    IF pos = mk OR pos = ins OR mk = ins THEN
        RAISE EXCEPTION 'positions, marks and instruments must be three different tables'
            USING ERRCODE = '22023';
    END IF;
    IF (SELECT relkind FROM pg_class WHERE oid = pos) <> 'r' THEN
        RAISE EXCEPTION '"%" is not an ordinary table', pos
            USING ERRCODE = '22023',
                  DETAIL = 'Enforcement attaches to an ordinary (not partitioned) positions table.';
    END IF;
    IF (SELECT relkind FROM pg_class WHERE oid = mk) NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '"%" is not a table', mk USING ERRCODE = '22023';
    END IF;
    IF (SELECT relkind FROM pg_class WHERE oid = ins) NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '"%" is not a table', ins USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.enforcement e WHERE e.positions = pos) THEN
        RAISE EXCEPTION 'table "%" is already enforced', pos
            USING ERRCODE = '22023',
                  HINT = 'Run isomargin.unenforce() on it first.';
    END IF;

    -- The column mapping: every key known, every value a column name.
    FOR k, v IN SELECT * FROM jsonb_each(map) LOOP
        IF NOT k = ANY (known) THEN
            RAISE EXCEPTION 'unknown key "%" in columns', k
                USING ERRCODE = '22023',
                      HINT = 'Known keys: ' || array_to_string(known, ', ') || '.';
        END IF;
        IF jsonb_typeof(v) <> 'string' THEN
            RAISE EXCEPTION 'columns."%" must be a column name (a JSON string)', k
                USING ERRCODE = '22023';
        END IF;
    END LOOP;
    IF map ? 'mmr' AND map ? 'tiers' THEN
        RAISE EXCEPTION 'columns maps both mmr and tiers'
            USING ERRCODE = '22023', HINT = 'An instrument''s maintenance rule is one or the other.';
    END IF;

    c := jsonb_build_object(
        'positions', jsonb_build_object(
            'symbol', coalesce(map->>'positions.symbol', map->>'symbol', 'symbol'),
            'size', coalesce(map->>'size', 'size'),
            'entry_price', coalesce(map->>'entry_price', 'entry_price'),
            'margin', coalesce(map->>'margin', 'margin'),
            'liquidation_price', coalesce(map->>'liquidation_price', 'liquidation_price'),
            'margin_call_price', coalesce(map->>'margin_call_price', 'margin_call_price'),
            'bankruptcy_price', coalesce(map->>'bankruptcy_price', 'bankruptcy_price'),
            'status', coalesce(map->>'status', 'status'),
            'status_changed_at', coalesce(map->>'status_changed_at', 'status_changed_at')),
        'marks', jsonb_build_object(
            'symbol', coalesce(map->>'marks.symbol', map->>'symbol', 'symbol'),
            'mark_price', coalesce(map->>'mark_price', 'mark_price'),
            'mark_time', map->>'mark_time'),
        'instruments', jsonb_build_object(
            'symbol', coalesce(map->>'instruments.symbol', map->>'symbol', 'symbol'),
            'kind', coalesce(map->>'kind', 'kind'),
            'contract_size', coalesce(map->>'contract_size', 'contract_size'),
            'fee_rate', coalesce(map->>'fee_rate', 'fee_rate')));

    -- Every mapped column must exist with a type enforcement reads.  kind,
    -- contract_size and fee_rate may be absent unless mapped explicitly.
    FOR colrec IN
        SELECT t.tab, t.key, t.rel, c #>> ARRAY[t.tab, t.key] AS col, t.kinds, t.maintained
          FROM (VALUES
            ('positions', 'symbol', pos, NULL::text[], false),
            ('positions', 'size', pos, '{numeric,int}', false),
            ('positions', 'entry_price', pos, '{numeric,int}', false),
            ('positions', 'margin', pos, '{numeric,int}', false),
            ('positions', 'liquidation_price', pos, '{numeric}', true),
            ('positions', 'margin_call_price', pos, '{numeric}', true),
            ('positions', 'bankruptcy_price', pos, '{numeric}', true),
            ('positions', 'status', pos, '{status}', true),
            ('positions', 'status_changed_at', pos, '{timestamptz}', true),
            ('marks', 'symbol', mk, NULL, false),
            ('marks', 'mark_price', mk, '{numeric,int}', false),
            ('marks', 'mark_time', mk, NULL, false),
            ('instruments', 'symbol', ins, NULL, false),
            ('instruments', 'kind', ins, '{kind}', false),
            ('instruments', 'contract_size', ins, '{numeric,int}', false),
            ('instruments', 'fee_rate', ins, '{numeric,int}', false))
            AS t(tab, key, rel, kinds, maintained)
    LOOP
        CONTINUE WHEN colrec.col IS NULL;
        SELECT a.atttypid INTO typ FROM pg_attribute a
         WHERE a.attrelid = colrec.rel AND a.attname = colrec.col AND a.attnum > 0
           AND NOT a.attisdropped;
        IF NOT FOUND THEN
            IF colrec.maintained THEN
                EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s', pos, colrec.col,
                               CASE colrec.key
                                   WHEN 'status' THEN '@extschema@.margin_status'
                                   WHEN 'status_changed_at' THEN 'pg_catalog.timestamptz'
                                   ELSE 'pg_catalog.numeric' END);
                added := added || colrec.col;
                CONTINUE;
            END IF;
            IF colrec.tab = 'instruments' AND colrec.key IN ('kind', 'contract_size', 'fee_rate')
               AND NOT map ? colrec.key THEN
                c := jsonb_set(c, ARRAY['instruments', colrec.key], 'null');
                CONTINUE;
            END IF;
            RAISE EXCEPTION 'column "%" of table "%" does not exist', colrec.col, colrec.rel
                USING ERRCODE = '22023',
                      HINT = format('isomargin''s "%s" of the %s table; map it with columns => ''{"%s": "your_column"}''.',
                                    colrec.key, colrec.tab, colrec.key);
        END IF;
        -- the base type of a domain
        WHILE (SELECT t.typtype FROM pg_type t WHERE t.oid = typ) = 'd' LOOP
            typ := (SELECT t.typbasetype FROM pg_type t WHERE t.oid = typ);
        END LOOP;
        IF colrec.kinds IS NOT NULL AND NOT (
               ('numeric' = ANY (colrec.kinds) AND typ = 'pg_catalog.numeric'::regtype)
            OR ('int' = ANY (colrec.kinds) AND typ IN ('pg_catalog.int2'::regtype, 'pg_catalog.int4'::regtype, 'pg_catalog.int8'::regtype))
            OR ('status' = ANY (colrec.kinds) AND typ = '@extschema@.margin_status'::regtype)
            OR ('timestamptz' = ANY (colrec.kinds) AND typ = 'pg_catalog.timestamptz'::regtype)
            OR ('kind' = ANY (colrec.kinds) AND typ = '@extschema@.contract_kind'::regtype)) THEN
            RAISE EXCEPTION 'column "%" of table "%" must be of type %', colrec.col, colrec.rel,
                    CASE colrec.kinds[1]
                        WHEN 'status' THEN 'isomargin.margin_status'
                        WHEN 'kind' THEN 'isomargin.contract_kind'
                        WHEN 'timestamptz' THEN 'timestamp with time zone'
                        ELSE 'numeric' END
                USING ERRCODE = '22023',
                      DETAIL = format('It is mapped to isomargin''s "%s" and is of type %s.',
                                      colrec.key, format_type(typ, NULL));
        END IF;
    END LOOP;

    -- The maintenance rule: a tiers column, or a flat mmr.
    IF map ? 'tiers' OR (NOT map ? 'mmr' AND EXISTS (
            SELECT 1 FROM pg_attribute a WHERE a.attrelid = ins AND a.attname = 'tiers'
               AND a.attnum > 0 AND NOT a.attisdropped)) THEN
        rate := coalesce(map->>'tiers', 'tiers');
        ratekind := 'tiers';
    ELSE
        rate := coalesce(map->>'mmr', 'mmr');
        ratekind := 'mmr';
    END IF;
    SELECT a.atttypid INTO typ FROM pg_attribute a
     WHERE a.attrelid = ins AND a.attname = rate AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of table "%" does not exist', rate, ins
            USING ERRCODE = '22023',
                  HINT = 'Instruments need a flat mmr column or a tiers column of type isomargin.tiers.';
    END IF;
    IF ratekind = 'tiers' AND format_type(typ, NULL) <> '@extschema@.tiers' THEN
        RAISE EXCEPTION 'column "%" of table "%" must be of type isomargin.tiers', rate, ins
            USING ERRCODE = '22023';
    END IF;
    IF ratekind = 'mmr' AND typ NOT IN ('pg_catalog.numeric'::regtype, 'pg_catalog.int2'::regtype,
                                        'pg_catalog.int4'::regtype, 'pg_catalog.int8'::regtype) THEN
        RAISE EXCEPTION 'column "%" of table "%" must be of type numeric', rate, ins
            USING ERRCODE = '22023';
    END IF;
    c := jsonb_set(c, '{instruments,rate}', to_jsonb(rate));
    c := jsonb_set(c, '{instruments,rate_kind}', to_jsonb(ratekind));

    -- One symbol type for the three tables, with a btree ordering.
    SELECT a.atttypid, a.atttypmod, a.attcollation INTO symtype, symtypmod, symcoll
      FROM pg_attribute a WHERE a.attrelid = pos AND a.attname = c #>> '{positions,symbol}';
    IF (SELECT count(DISTINCT a.atttypid) FROM pg_attribute a
         WHERE (a.attrelid, a.attname) IN ((pos, c #>> '{positions,symbol}'),
                                           (mk, c #>> '{marks,symbol}'),
                                           (ins, c #>> '{instruments,symbol}'))) <> 1 THEN
        RAISE EXCEPTION 'the symbol columns of "%", "%" and "%" must have the same type', pos, mk, ins
            USING ERRCODE = '22023';
    END IF;
    BEGIN
        EXECUTE format('SELECT 1 FROM %s p ORDER BY p.%I LIMIT 0', pos, c #>> '{positions,symbol}');
    EXCEPTION WHEN undefined_function THEN
        RAISE EXCEPTION 'symbol type % has no default btree operator class', format_type(symtype, symtypmod)
            USING ERRCODE = '22023';
    END;

    -- Keys: positions are locked and named by their primary key; an
    -- instrument is found by its symbol.
    IF NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = pos AND i.indisprimary) THEN
        RAISE EXCEPTION 'table "%" has no primary key', pos
            USING ERRCODE = '22023',
                  HINT = 'Enforcement locks and names positions by their primary key.';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
         WHERE i.indrelid = ins AND i.indisunique AND i.indnkeyatts = 1 AND i.indexprs IS NULL
           AND i.indpred IS NULL AND a.attname = c #>> '{instruments,symbol}') THEN
        RAISE EXCEPTION 'table "%" has no unique index on its symbol column "%"', ins,
                c #>> '{instruments,symbol}'
            USING ERRCODE = '22023',
                  HINT = 'Make the symbol the primary key of the instruments table.';
    END IF;

    INSERT INTO @extschema@.enforcement AS e (positions, marks, instruments, columns)
    VALUES (pos, mk, ins, c) RETURNING e.id INTO att_id;

    -- The state table: one row per instrument, its current mark.
    IF symcoll <> 0 THEN
        SELECT ' COLLATE ' || format('%I.%I', n.nspname, co.collname) INTO coll
          FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace WHERE co.oid = symcoll;
    END IF;
    st := 'enforce_state_' || att_id;
    EXECUTE format('CREATE TABLE @extschema@.%I (symbol %s%s PRIMARY KEY, mark_price pg_catalog.numeric, '
                   'updated_at pg_catalog.timestamptz)', st, format_type(symtype, symtypmod), coll);
    state := format('@extschema@.%I', st)::regclass;
    EXECUTE format('COMMENT ON TABLE %s IS %L', state,
                   format('isomargin enforcement %s: the current mark of each instrument of %s', att_id, pos));
    SELECT r.relowner INTO owner FROM pg_class r WHERE r.oid = pos;
    IF owner <> (SELECT r.relowner FROM pg_class r WHERE r.oid = state) THEN
        EXECUTE format('ALTER TABLE %s OWNER TO %I', state, (SELECT rolname FROM pg_roles WHERE oid = owner));
    END IF;

    -- Current marks: the row per symbol, or the latest by mark_time.
    IF c #>> '{marks,mark_time}' IS NULL THEN
        EXECUTE format('SELECT m.%1$I::text FROM %2$s m WHERE m.%3$I IS NOT NULL AND m.%1$I IS NOT NULL '
                       'GROUP BY m.%1$I HAVING count(*) > 1 LIMIT 1',
                       c #>> '{marks,symbol}', mk, c #>> '{marks,mark_price}') INTO dup;
        IF dup IS NOT NULL THEN
            RAISE EXCEPTION 'table "%" holds several marks for instrument %', mk, dup
                USING ERRCODE = '22023',
                      HINT = 'Map mark_time to the column that orders a symbol''s marks: the latest is the current mark.';
        END IF;
        EXECUTE format('INSERT INTO %s (symbol, mark_price) SELECT m.%I, m.%I FROM %s m '
                       'WHERE m.%I IS NOT NULL AND m.%I IS NOT NULL',
                       state, c #>> '{marks,symbol}', c #>> '{marks,mark_price}', mk,
                       c #>> '{marks,symbol}', c #>> '{marks,mark_price}');
    ELSE
        EXECUTE format('INSERT INTO %1$s (symbol, mark_price) SELECT DISTINCT ON (m.%2$I) m.%2$I, m.%3$I '
                       'FROM %4$s m WHERE m.%2$I IS NOT NULL AND m.%3$I IS NOT NULL '
                       'ORDER BY m.%2$I, m.%5$I DESC NULLS LAST',
                       state, c #>> '{marks,symbol}', c #>> '{marks,mark_price}', mk,
                       c #>> '{marks,mark_time}');
    END IF;
    EXECUTE format('SELECT s.symbol::text FROM %s s WHERE NOT (s.mark_price > 0 AND s.mark_price < ''Infinity'') LIMIT 1',
                   state) INTO bad;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'the mark of instrument % in "%" is not a positive finite price', bad, mk
            USING ERRCODE = '22023';
    END IF;

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

    -- Every existing position: prices, and its status at the current mark.
    EXECUTE format('UPDATE %s SET %I = %I', pos, c #>> '{positions,size}', c #>> '{positions,size}');

    RETURN jsonb_build_object('id', att_id, 'state_table', state::text, 'added_columns', to_jsonb(added),
                              'indexes', to_jsonb(idx), 'triggers', trg);
END
$fn$;

-- Removes what enforce() created on a positions table: its triggers on the
-- three tables, its indexes and its state table.  The columns it added and
-- their values stay, and so do the events.
CREATE FUNCTION @extschema@.unenforce(positions pg_catalog.regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    e   record;
    i   text;
    t   record;
BEGIN
    SELECT * INTO e FROM @extschema@.enforcement x WHERE x.positions = unenforce.positions;
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
    FOREACH i IN ARRAY e.indexes LOOP
        IF to_regclass(i) IS NOT NULL THEN
            EXECUTE format('DROP INDEX %s', to_regclass(i));
        END IF;
    END LOOP;
    IF e.state_table IS NOT NULL AND EXISTS (SELECT 1 FROM pg_class r WHERE r.oid = e.state_table) THEN
        EXECUTE format('DROP TABLE %s', e.state_table);
    END IF;
    DELETE FROM @extschema@.enforcement x WHERE x.id = e.id;
END
$fn$;
-- Reports over whole books: the loss beyond bankruptcy of one position, a
-- price-shock scenario and a liquidation ladder over a positions table.
-- Reference: README.md "Functions" > "Reports".
--
-- shock() and liquidation_ladder() read the user's tables, named by regclass
-- (a table or a view), with the column conventions of isomargin.enforce
-- (doc/enforcement.md); the `columns` argument maps other names.  Their SQL is
-- built with format('%I') from catalog names and runs with every value bound as
-- a parameter; they run with search_path = pg_catalog, pg_temp, so no
-- function or operator on the caller's search path is ever called.

-- What the insurance fund covers when the position is closed at mark_price:
-- the equity below zero, 0 while equity is positive.  Settlement currency
-- (quote for linear, coin for inverse); inverse equity is rounded down, so a
-- shortfall is never understated.
CREATE FUNCTION @extschema@.shortfall(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN GREATEST(CAST(0 AS pg_catalog.numeric),
    OPERATOR(pg_catalog.-) @extschema@.equity(size, entry_price, mark_price, margin,
                                            contract_size, kind));

-- Internal: the quoted name of the column of rel that plays `role`, after the
-- `columns` mapping ("<rel_role>.<role>" first, then "<role>"); NULL when the
-- column is optional and absent.  Checks its type (domains count as their base
-- type).
CREATE FUNCTION @extschema@._report_column(
    rel regclass, rel_role text, role text, columns jsonb, required boolean,
    allowed regtype[])
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    colname text := coalesce(columns ->> (rel_role || '.' || role), columns ->> role, role);
    typ oid;
    base oid;
BEGIN
    SELECT a.atttypid INTO typ
      FROM pg_attribute a
     WHERE a.attrelid = rel AND a.attname = colname AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        IF required OR columns ? role OR columns ? (rel_role || '.' || role) THEN
            RAISE EXCEPTION '% table % has no column "%"', rel_role, rel, colname
                USING ERRCODE = '22023',
                      HINT = format('Name the %s column with columns => ''{"%s": "..."}''.', role, role);
        END IF;
        RETURN NULL;
    END IF;
    LOOP
        SELECT t.typbasetype INTO base FROM pg_type t WHERE t.oid = typ;
        EXIT WHEN base = 0;
        typ := base;
    END LOOP;
    IF allowed IS NOT NULL AND NOT typ = ANY (allowed::oid[]) THEN
        RAISE EXCEPTION 'column "%" of % table % must be of type %, not %',
                colname, rel_role, rel,
                array_to_string(allowed::text[], ' or '), typ::regtype
            USING ERRCODE = '22023';
    END IF;
    RETURN quote_ident(colname);
END
$fn$;

-- Internal: the SQL of the book the reports read, one row per position:
--   position_key jsonb, symbol, size, entry_price, margin, kind, contract_size,
--   fee_rate, risk (the instrument's tiers, or its mmr), mark_price
-- and of the market (symbol, mark_price of every instrument that has a mark);
-- risk_arg is the argument that passes `risk` to the margin functions
-- (`tiers => ` or `mmr => `).  Positions whose status column, when the table
-- has one, says liquidate or bankrupt are left out: the liquidation engine has
-- them already.
CREATE FUNCTION @extschema@._report_book(
    positions regclass, marks regclass, instruments regclass, columns jsonb,
    OUT book_sql text, OUT market_sql text, OUT risk_arg text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    num regtype[] := ARRAY['numeric', 'bigint', 'integer', 'smallint']::regtype[];
    tiers_type regtype := to_regtype('@extschema@.tiers');
    -- isomargin.enforce's keys, so that one mapping serves both
    known text[] := ARRAY['symbol', 'positions.symbol', 'marks.symbol', 'instruments.symbol',
                          'size', 'entry_price', 'margin', 'liquidation_price',
                          'margin_call_price', 'bankruptcy_price', 'status',
                          'status_changed_at', 'mark_price', 'mark_time', 'kind',
                          'contract_size', 'mmr', 'tiers', 'fee_rate'];
    k text;
    key_expr text;
    p_sym text; i_sym text; m_sym text;
    p_size text; p_entry text; p_margin text; p_status text;
    i_kind text; i_cs text; i_fee text; i_risk text;
    m_mark text; m_time text;
    marks_src text;
    dup text;
    rel regclass;
BEGIN
    IF jsonb_typeof(columns) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'columns must be a JSON object'
            USING ERRCODE = '22023',
                  HINT = 'Map conventional names to yours, e.g. {"mark_price": "px"}.';
    END IF;
    FOR k IN SELECT jsonb_object_keys(columns) LOOP
        IF NOT k = ANY (known) THEN
            RAISE EXCEPTION 'unknown key "%" in columns', k
                USING ERRCODE = '22023',
                      DETAIL = 'Known keys: ' || array_to_string(known, ', ') || '.';
        END IF;
        IF jsonb_typeof(columns -> k) IS DISTINCT FROM 'string' THEN
            RAISE EXCEPTION 'columns key "%" must map to a column name (a JSON string)', k
                USING ERRCODE = '22023';
        END IF;
    END LOOP;

    FOREACH rel IN ARRAY ARRAY[positions, marks, instruments] LOOP
        IF NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = rel
                        AND c.relkind IN ('r', 'p', 'v', 'm', 'f')) THEN
            RAISE EXCEPTION '% is not a table or view', rel USING ERRCODE = '22023';
        END IF;
    END LOOP;

    -- The position key, as enforcement's events name it: a jsonb object of the
    -- primary key's columns (for a view, of a column named id).
    SELECT string_agg(format('%L, p.%I', a.attname, a.attname), ', ' ORDER BY ik.ord) INTO key_expr
      FROM pg_index x
      CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS ik(attnum, ord)
      JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = ik.attnum
     WHERE x.indrelid = positions AND x.indisprimary;
    IF key_expr IS NULL AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = positions
                                    AND a.attname = 'id' AND a.attnum > 0 AND NOT a.attisdropped) THEN
        key_expr := '''id'', p.id';
    END IF;
    IF key_expr IS NULL THEN
        RAISE EXCEPTION 'positions table % has no primary key', positions
            USING ERRCODE = '22023',
                  HINT = 'Give it a primary key, or pass a view with a column named id.';
    END IF;
    key_expr := format('pg_catalog.jsonb_build_object(%s)', key_expr);

    p_sym := @extschema@._report_column(positions, 'positions', 'symbol', columns, true, NULL);
    i_sym := @extschema@._report_column(instruments, 'instruments', 'symbol', columns, true, NULL);
    m_sym := @extschema@._report_column(marks, 'marks', 'symbol', columns, true, NULL);
    IF (SELECT count(DISTINCT a.atttypid) FROM pg_attribute a
         WHERE (a.attrelid, a.attname) IN
               ((positions, coalesce(columns ->> 'positions.symbol', columns ->> 'symbol', 'symbol')),
                (marks, coalesce(columns ->> 'marks.symbol', columns ->> 'symbol', 'symbol')),
                (instruments, coalesce(columns ->> 'instruments.symbol', columns ->> 'symbol', 'symbol')))
           AND a.attnum > 0 AND NOT a.attisdropped) <> 1 THEN
        RAISE EXCEPTION 'the symbol columns of %, % and % are not of one type',
                positions, marks, instruments
            USING ERRCODE = '22023';
    END IF;

    p_size := @extschema@._report_column(positions, 'positions', 'size', columns, true, num);
    p_entry := @extschema@._report_column(positions, 'positions', 'entry_price', columns, true, num);
    p_margin := @extschema@._report_column(positions, 'positions', 'margin', columns, true, num);
    p_status := @extschema@._report_column(positions, 'positions', 'status', columns, false,
                                           ARRAY['@extschema@.margin_status']::regtype[]);
    i_kind := @extschema@._report_column(instruments, 'instruments', 'kind', columns, false,
                                         ARRAY['@extschema@.contract_kind']::regtype[]);
    i_cs := @extschema@._report_column(instruments, 'instruments', 'contract_size', columns, false, num);
    i_fee := @extschema@._report_column(instruments, 'instruments', 'fee_rate', columns, false, num);
    -- The maintenance rule, chosen as enforce() chooses it: tiers when mapped, or
    -- when a tiers column exists and mmr is not mapped; else a flat mmr.
    IF columns ? 'mmr' AND columns ? 'tiers' THEN
        RAISE EXCEPTION 'columns maps both mmr and tiers'
            USING ERRCODE = '22023', HINT = 'An instrument''s maintenance rule is one or the other.';
    END IF;
    IF tiers_type IS NOT NULL AND NOT columns ? 'mmr' THEN
        i_risk := @extschema@._report_column(instruments, 'instruments', 'tiers', columns, false,
                                             ARRAY[tiers_type]);
    END IF;
    IF i_risk IS NOT NULL THEN
        risk_arg := 'tiers => ';
        i_risk := 'i.' || i_risk;
    ELSE
        i_risk := @extschema@._report_column(instruments, 'instruments', 'mmr', columns, false, num);
        IF i_risk IS NULL THEN
            RAISE EXCEPTION 'instruments table % has neither a tiers nor an mmr column', instruments
                USING ERRCODE = '22023',
                      HINT = 'Name one with columns => ''{"mmr": "..."}'' or ''{"tiers": "..."}''.';
        END IF;
        risk_arg := 'mmr => ';
        i_risk := format('CAST(i.%s AS pg_catalog.numeric)', i_risk);
    END IF;
    m_mark := @extschema@._report_column(marks, 'marks', 'mark_price', columns, true, num);
    m_time := @extschema@._report_column(marks, 'marks', 'mark_time', columns, false, NULL);

    -- The current marks, as enforce() reads them: the one row of each symbol, or
    -- with mark_time mapped the latest; rows without a mark do not count.
    IF m_time IS NULL THEN
        EXECUTE format('SELECT CAST(m.%1$s AS pg_catalog.text) FROM %2$s m
                         WHERE m.%3$s IS NOT NULL AND m.%1$s IS NOT NULL GROUP BY m.%1$s
                        HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1 LIMIT 1',
                       m_sym, marks, m_mark)
           INTO dup;
        IF dup IS NOT NULL THEN
            RAISE EXCEPTION 'marks table % holds more than one row for symbol %', marks, dup
                USING ERRCODE = '22023',
                      HINT = 'Map mark_time to the column that orders a symbol''s marks (the latest is the current mark), or pass a view that keeps one row per symbol.';
        END IF;
        marks_src := format('(SELECT m.%1$s, m.%2$s FROM %3$s m WHERE m.%2$s IS NOT NULL)',
                            m_sym, m_mark, marks);
    ELSE
        marks_src := format('(SELECT DISTINCT ON (m.%1$s) m.%1$s, m.%2$s FROM %3$s m
                               WHERE m.%2$s IS NOT NULL AND m.%1$s IS NOT NULL
                               ORDER BY m.%1$s, m.%4$s DESC NULLS LAST)',
                            m_sym, m_mark, marks, m_time);
    END IF;

    market_sql := format(
        'SELECT i.%1$s AS symbol, CAST(m.%2$s AS pg_catalog.numeric) AS mark_price
           FROM %3$s i JOIN %4$s m ON m.%5$s OPERATOR(pg_catalog.=) i.%1$s',
        i_sym, m_mark, instruments, marks_src, m_sym);
    book_sql := format(
        'SELECT %1$s AS position_key, p.%2$s AS symbol,
                CAST(p.%3$s AS pg_catalog.numeric) AS size,
                CAST(p.%4$s AS pg_catalog.numeric) AS entry_price,
                CAST(p.%5$s AS pg_catalog.numeric) AS margin,
                %6$s AS kind, %7$s AS contract_size, %8$s AS fee_rate, %9$s AS risk,
                CAST(m.%10$s AS pg_catalog.numeric) AS mark_price
           FROM %11$s p
           JOIN %12$s i ON i.%13$s OPERATOR(pg_catalog.=) p.%2$s
           JOIN %14$s m ON m.%15$s OPERATOR(pg_catalog.=) p.%2$s',
        key_expr, p_sym, p_size, p_entry, p_margin,
        coalesce('i.' || i_kind, 'CAST(''linear'' AS @extschema@.contract_kind)'),
        coalesce('CAST(i.' || i_cs || ' AS pg_catalog.numeric)', 'CAST(1 AS pg_catalog.numeric)'),
        coalesce('CAST(i.' || i_fee || ' AS pg_catalog.numeric)', 'CAST(0 AS pg_catalog.numeric)'),
        i_risk, m_mark, positions, instruments, i_sym, marks_src, m_sym);
    IF p_status IS NOT NULL THEN
        book_sql := book_sql || format(
            ' WHERE p.%1$s IS NULL OR p.%1$s OPERATOR(pg_catalog.<) CAST(''liquidate'' AS @extschema@.margin_status)',
            p_status);
    END IF;
END
$fn$;

-- Every open position that a move of every instrument's mark by `move` (a
-- relative change: -0.2 = 20% down) would leave at liquidate or bankrupt,
-- with the shortfall beyond bankruptcy if it were closed at the shocked price.
-- One call over the whole book; aggregate the rows for totals.
CREATE FUNCTION @extschema@.shock(
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
BEGIN
    IF move = 'NaN' OR move IN ('Infinity', '-Infinity') OR move <= -1 THEN
        RAISE EXCEPTION 'move must be a finite number greater than -1'
            USING ERRCODE = '22023',
                  DETAIL = format('move is %s.', move),
                  HINT = 'move is a relative price change: -0.2 is a 20% fall.';
    END IF;
    src := @extschema@._report_book(positions, marks, instruments, columns);
    RETURN QUERY EXECUTE format(
        'SELECT b.position_key, CAST(b.symbol AS pg_catalog.text), b.kind, b.size,
                b.entry_price, b.margin, b.mark_price, b.shocked_price, b.status,
                @extschema@.equity(b.size, b.entry_price, b.shocked_price, b.margin,
                                   b.contract_size, b.kind),
                @extschema@.maintenance_margin(size => b.size, mark_price => b.shocked_price,
                                   %1$s b.risk, contract_size => b.contract_size,
                                   kind => b.kind, fee_rate => b.fee_rate),
                @extschema@.shortfall(b.size, b.entry_price, b.shocked_price, b.margin,
                                      b.contract_size, b.kind)
           FROM (SELECT s.*,
                        @extschema@.margin_status(size => s.size, entry_price => s.entry_price,
                            mark_price => s.shocked_price, margin => s.margin, %1$s s.risk,
                            contract_size => s.contract_size, kind => s.kind,
                            fee_rate => s.fee_rate) AS status
                   FROM (SELECT bk.*, bk.mark_price OPERATOR(pg_catalog.*)
                                (1 OPERATOR(pg_catalog.+) $1) AS shocked_price
                           FROM (%2$s) bk) s
                 OFFSET 0) b
          WHERE b.status OPERATOR(pg_catalog.>=) CAST(''liquidate'' AS @extschema@.margin_status)',
        src.risk_arg, src.book_sql)
    USING move;
END
$fn$;

-- The open notional that would be liquidated in each price bucket below
-- (longs) and above (shorts) every instrument's mark: bucket -k holds the
-- longs, bucket k the shorts, whose liquidation price lies at a distance from
-- the mark in ((k-1)*w, k*w] of the mark, w = bucket_width.  One row per
-- instrument, side and bucket 1..buckets, empty buckets included; liquidation
-- prices further away, positions that can never be liquidated and positions
-- already liquidatable at the mark are left out.
CREATE FUNCTION @extschema@.liquidation_ladder(
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
    src := @extschema@._report_book(positions, marks, instruments, columns);
    RETURN QUERY EXECUTE format(
        'WITH lp AS (
             SELECT b.symbol, b.mark_price, b.size, b.contract_size, b.kind,
                    @extschema@.liquidation_price(size => b.size, entry_price => b.entry_price,
                        margin => b.margin, %1$s b.risk, contract_size => b.contract_size,
                        kind => b.kind, fee_rate => b.fee_rate) AS price
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
        src.risk_arg, src.book_sql, src.market_sql)
    USING bucket_width, buckets;
END
$fn$;
