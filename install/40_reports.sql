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

-- Internal: the SQL of the book the reports read, one row per position:
--   position_key jsonb, symbol, size, entry_price, margin, kind, contract_size,
--   fee_rate, risk (the instrument's tiers, or its mmr), mark_price, and the
--   instrument's venue conventions (mm_basis, fee_basis, then tier_basis and
--   bracket_basis with tiers, maintenance_amount with mmr: doc/venues.md)
-- and of the market (symbol, mark_price of every instrument that has a mark);
-- risk_arg is the argument that passes `risk` to the margin functions
-- (`tiers => ` or `mmr => `), convention_args the named arguments that pass
-- the conventions (", mm_basis => b.mm_basis, ...").  The columns, their types and the current
-- marks are the attachment contract's, as enforce() reads them
-- (isomargin._attachment_contract).  Positions whose status column, when
-- the table has one, says liquidate or bankrupt are left out: the
-- liquidation engine has them already.
-- When the instruments have an add-on rate column (addon_rate, or as mapped:
-- doc/dynamic.md), the book carries it as addon_rate, figure_prefix is
-- 'dynamic_' and convention_args passes it (", addon_rate => b.addon_rate")
-- to the dynamic_* figures, so that a report charges what enforcement
-- stores; otherwise figure_prefix is ''.  No figure function takes both an
-- add-on and venue conventions: with figures => true (the reports) such an
-- attachment is refused (0A000), as verify refuses it.
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
