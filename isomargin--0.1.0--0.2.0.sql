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

-- Attaches enforcement to three tables of the caller's (doc/enforcement.md).
CREATE OR REPLACE FUNCTION @extschema@.enforce(
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
        PERFORM @extschema@.run_as_owner(pos,
            format('SELECT 1 FROM %s p ORDER BY p.%I LIMIT 0', pos, c #>> '{positions,symbol}'));
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
        dup := @extschema@.run_as_owner(pos,
            format('SELECT m.%1$I::text FROM %2$s m WHERE m.%3$I IS NOT NULL AND m.%1$I IS NOT NULL '
                   'GROUP BY m.%1$I HAVING count(*) > 1 LIMIT 1',
                   c #>> '{marks,symbol}', mk, c #>> '{marks,mark_price}'));
        IF dup IS NOT NULL THEN
            RAISE EXCEPTION 'table "%" holds several marks for instrument %', mk, dup
                USING ERRCODE = '22023',
                      HINT = 'Map mark_time to the column that orders a symbol''s marks: the latest is the current mark.';
        END IF;
        PERFORM @extschema@.run_as_owner(pos,
            format('INSERT INTO %s (symbol, mark_price) SELECT m.%I, m.%I FROM %s m '
                   'WHERE m.%I IS NOT NULL AND m.%I IS NOT NULL',
                   state, c #>> '{marks,symbol}', c #>> '{marks,mark_price}', mk,
                   c #>> '{marks,symbol}', c #>> '{marks,mark_price}'));
    ELSE
        PERFORM @extschema@.run_as_owner(pos,
            format('INSERT INTO %1$s (symbol, mark_price) SELECT DISTINCT ON (m.%2$I) m.%2$I, m.%3$I '
                   'FROM %4$s m WHERE m.%2$I IS NOT NULL AND m.%3$I IS NOT NULL '
                   'ORDER BY m.%2$I, m.%5$I DESC NULLS LAST',
                   state, c #>> '{marks,symbol}', c #>> '{marks,mark_price}', mk,
                   c #>> '{marks,mark_time}'));
    END IF;
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
                              'indexes', to_jsonb(idx), 'triggers', trg);
END
$fn$;


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
CREATE OR REPLACE FUNCTION @extschema@._report_book(
    positions regclass, marks regclass, instruments regclass, columns jsonb,
    OUT book_sql text, OUT market_sql text, OUT risk_arg text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    contract jsonb := @extschema@._attachment_contract(positions, marks, instruments, columns, 'report');
    c jsonb := contract -> 'columns';
    rd jsonb := contract -> 'read';
BEGIN
    risk_arg := rd ->> 'rate_arg';
    market_sql := format(
        'SELECT i.%1$I AS symbol, m.mark_price
           FROM %2$s i JOIN (%3$s) m ON m.symbol OPERATOR(pg_catalog.=) i.%1$I',
        c #>> '{instruments,symbol}', instruments, contract ->> 'current_marks');
    book_sql := format(
        'SELECT %1$s AS position_key, p.%2$I AS symbol,
                %3$s AS size, %4$s AS entry_price, %5$s AS margin,
                %6$s AS kind, %7$s AS contract_size, %8$s AS fee_rate, %9$s AS risk,
                m.mark_price
           FROM %10$s p
           JOIN %11$s i ON i.%12$I OPERATOR(pg_catalog.=) p.%2$I
           JOIN (%13$s) m ON m.symbol OPERATOR(pg_catalog.=) p.%2$I',
        contract ->> 'position_key', c #>> '{positions,symbol}',
        rd ->> 'size', rd ->> 'entry_price', rd ->> 'margin',
        rd ->> 'kind', rd ->> 'contract_size', rd ->> 'fee_rate', rd ->> 'rate',
        positions, instruments, c #>> '{instruments,symbol}', contract ->> 'current_marks');
    IF rd ->> 'status' IS NOT NULL THEN
        book_sql := book_sql || format(
            ' WHERE %1$s IS NULL OR %1$s OPERATOR(pg_catalog.<) CAST(''liquidate'' AS @extschema@.margin_status)',
            rd ->> 'status');
    END IF;
END
$fn$;
CREATE OR REPLACE FUNCTION @extschema@.enforce(
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
    coll    text := '';
    owner   oid;
BEGIN
    IF pos IS NOT NULL AND EXISTS (SELECT 1 FROM @extschema@.enforcement e WHERE e.positions = pos) THEN
        RAISE EXCEPTION 'table "%" is already enforced', pos
            USING ERRCODE = '22023',
                  HINT = 'Run isomargin.unenforce() on it first.';
    END IF;
    -- The attachment contract (src/enforce_contract.c): tables, the column
    -- mapping, every column and its type, the rule, the symbol type, the keys.
    contract := @extschema@._attachment_contract(pos, mk, ins, enforce.columns, 'enforce');
    c := contract -> 'columns';

    -- The maintained columns that are missing.
    FOR v IN SELECT * FROM jsonb_array_elements(contract -> 'add') LOOP
        EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s', pos, v ->> 'column', v ->> 'type');
        added := added || (v ->> 'column');
    END LOOP;

    SELECT a.atttypid, a.atttypmod, a.attcollation INTO symtype, symtypmod, symcoll
      FROM pg_attribute a WHERE a.attrelid = pos AND a.attname = c #>> '{positions,symbol}';

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

    -- Current marks, as the contract defines them (one row per symbol, or
    -- the latest by mark_time).
    PERFORM @extschema@.run_as_owner(pos,
        format('INSERT INTO %s (symbol, mark_price) SELECT m.symbol, m.mark_price FROM (%s) m',
               state, contract ->> 'current_marks'));
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
                              'indexes', to_jsonb(idx), 'triggers', trg, 'notes', contract -> 'notes');
END
$fn$;
-- ---- end of the attachment contract block ----

-- ---- Venue conventions in the reports (issue 14 item 6): the book carries
-- each instrument's conventions and the figures take them; _report_book has
-- a new OUT column, so it is dropped and created again.
DROP FUNCTION @extschema@._report_book(pg_catalog.regclass, pg_catalog.regclass, pg_catalog.regclass, pg_catalog.jsonb);
CREATE FUNCTION @extschema@._report_book(
    positions regclass, marks regclass, instruments regclass, columns jsonb,
    OUT book_sql text, OUT market_sql text, OUT risk_arg text, OUT convention_args text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    contract jsonb := @extschema@._attachment_contract(positions, marks, instruments, columns, 'report');
    c jsonb := contract -> 'columns';
    rd jsonb := contract -> 'read';
BEGIN
    risk_arg := rd ->> 'rate_arg';
    convention_args := rd ->> 'convention_args';
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
        rd ->> 'conventions');
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
                (@extschema@.assess(size => b.size, entry_price => b.entry_price,
                                   mark_price => b.shocked_price, margin => b.margin,
                                   %1$s b.risk, contract_size => b.contract_size,
                                   kind => b.kind, fee_rate => b.fee_rate%3$s)).maintenance_margin,
                @extschema@.shortfall(b.size, b.entry_price, b.shocked_price, b.margin,
                                      b.contract_size, b.kind)
           FROM (SELECT s.*,
                        @extschema@.margin_status(size => s.size, entry_price => s.entry_price,
                            mark_price => s.shocked_price, margin => s.margin, %1$s s.risk,
                            contract_size => s.contract_size, kind => s.kind,
                            fee_rate => s.fee_rate%4$s) AS status
                   FROM (SELECT bk.*, bk.mark_price OPERATOR(pg_catalog.*)
                                (1 OPERATOR(pg_catalog.+) $1) AS shocked_price
                           FROM (%2$s) bk) s
                 OFFSET 0) b
          WHERE b.status OPERATOR(pg_catalog.>=) CAST(''liquidate'' AS @extschema@.margin_status)',
        src.risk_arg, src.book_sql, src.convention_args,
        replace(src.convention_args, '=> b.', '=> s.'))
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
    src := @extschema@._report_book(positions, marks, instruments, columns);
    RETURN QUERY EXECUTE format(
        'WITH lp AS (
             SELECT b.symbol, b.mark_price, b.size, b.contract_size, b.kind,
                    @extschema@.liquidation_price(size => b.size, entry_price => b.entry_price,
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
        src.risk_arg, src.book_sql, src.market_sql, src.convention_args)
    USING bucket_width, buckets;
END
$fn$;
