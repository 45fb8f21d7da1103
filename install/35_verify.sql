-- Verifying an enforced positions table (issue 19 item 3): what the triggers
-- did not see.  Rows written while enforcement's triggers did not fire
-- (session_replication_role = replica, pg_restore --disable-triggers,
-- ALTER TABLE ... DISABLE TRIGGER) keep stale or NULL prices and statuses;
-- verify() finds them, set-based, and with repair => true recomputes them
-- through the positions trigger, which records the events.
-- Reference: doc/enforcement.md, "Bypasses and verify".

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
