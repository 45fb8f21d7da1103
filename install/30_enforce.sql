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
    created_at        pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    tick_size         pg_catalog.numeric NOT NULL DEFAULT 0
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
-- The events of a dropped table are deleted with it (enforcement_sql_drop).
CREATE INDEX events_positions ON @extschema@.events (positions);
COMMENT ON TABLE @extschema@.events IS
    'isomargin enforcement: one row per status change of an enforced position; NOTIFY isomargin_events carries the id';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.events', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.events_id_seq', '');

-- Claims up to max_events unclaimed events, oldest first, for one worker.
-- Concurrent callers never get the same event (FOR UPDATE SKIP LOCKED); a
-- claim rolled back with the caller's transaction is claimable again.
CREATE FUNCTION @extschema@.claim_events(worker pg_catalog.text, max_events pg_catalog.int4 DEFAULT 1)
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

-- Runs one statement of enforce() as the owner of an attached table, in a
-- security-restricted operation (src/enforce_owner.c): code the owner
-- attached to the table never runs with the caller's rights.  The caller
-- must own the table, so the switch only ever drops rights.  Returns the
-- first column of the first row as text, or NULL.
CREATE FUNCTION @extschema@.run_as_owner(tab pg_catalog.regclass, statement pg_catalog.text)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'run_as_owner' LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION @extschema@.enforce_positions_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'enforce_positions_trigger' LANGUAGE C;
CREATE FUNCTION @extschema@.enforce_marks_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'enforce_marks_trigger' LANGUAGE C;
CREATE FUNCTION @extschema@.enforce_instruments_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'enforce_instruments_trigger' LANGUAGE C;

-- Refuses to drop a table of an attachment (hint: isomargin.unenforce) and
-- deletes the events of a dropped table (src/enforce_drop.c).  ALWAYS: it
-- fires under session_replication_role = replica too.
CREATE FUNCTION @extschema@.enforcement_sql_drop() RETURNS event_trigger
AS 'MODULE_PATHNAME', 'enforcement_sql_drop' LANGUAGE C;
CREATE EVENT TRIGGER isomargin_sql_drop ON sql_drop
EXECUTE FUNCTION @extschema@.enforcement_sql_drop();
ALTER EVENT TRIGGER isomargin_sql_drop ENABLE ALWAYS;

-- The attachment contract resolved in C (src/enforce_contract.c) for
-- enforce() (purpose 'enforce') and the reports ('report'): the columns,
-- the SQL reading them, the current marks.  Internal.
CREATE FUNCTION @extschema@._attachment_contract(
    positions pg_catalog.regclass, marks pg_catalog.regclass, instruments pg_catalog.regclass,
    columns pg_catalog.jsonb, purpose pg_catalog.text)
RETURNS pg_catalog.jsonb
AS 'MODULE_PATHNAME', 'attachment_contract' LANGUAGE C STABLE;

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

-- Removes what enforce() created on a positions table: its triggers on the
-- three tables, its indexes and its state table.  The columns it added and
-- their values stay, and so do the events.  The catalog row goes first:
-- enforcement_sql_drop refuses to drop the state table of an attachment.
-- Indexes are found by name among the positions table's own, wherever
-- ALTER TABLE ... SET SCHEMA moved them.
CREATE FUNCTION @extschema@.unenforce(positions pg_catalog.regclass)
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
