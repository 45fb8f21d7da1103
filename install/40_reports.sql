-- Reports over whole books: the loss beyond bankruptcy of one position, a
-- price-shock scenario and a liquidation ladder over a positions table.
-- Reference: README.md "Reference" > "Reports".
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
