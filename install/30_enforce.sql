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
    'isomargin enforcement: one row per status change of an enforced position; NOTIFY isomargin_events carries the positions table, once per transaction';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.events', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.events_id_seq', '');

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

-- An attachment's settings, checked as the figure functions check their
-- arguments of the same names, with their messages (src/rule.c).  Internal.
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

-- Attaches enforcement to three tables of the caller's (doc/enforcement.md).
-- margin_call_ratio and tick_size are the attachment's settings
-- (isomargin.enforce_settings changes them later).
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
