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
