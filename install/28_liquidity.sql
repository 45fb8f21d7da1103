-- Dynamic requirements, part 2: a liquidity add-on per position, the cost of
-- closing its size against an order-book snapshot, as a rate of its notional
-- at the mark (doc/dynamic.md).  Exact but for the documented roundings: an
-- inverse level's slippage rounded up to 20 decimals, the rate up to 6.

-- The add-on rate of closing `size` contracts at mark_price against the levels
-- of the side the close trades with (bids for a long, asks for a short; any
-- order: walked best first, the highest bid or the lowest ask).  Each level
-- fills up to its size; its slippage against the mark is
--   linear: side*(P - p) per unit of base (never below 0),
--   inverse: side*(P - p)/p per unit of coin notional, rounded up to 20 decimals;
-- what the book cannot fill pays the worst level's slippage plus penalty_rate
-- (of the mark, linear; of the notional, inverse).  The rate is the cost over
-- the notional at the mark, |q|*cs*P (linear) or |q|*cs/P (inverse), rounded up
-- to 6 decimals; contract_size cancels out.  0 for a zero size.
CREATE FUNCTION @extschema@.liquidity_addon(
    size pg_catalog.numeric, mark_price pg_catalog.numeric,
    level_prices pg_catalog.numeric[], level_sizes pg_catalog.numeric[],
    penalty_rate pg_catalog.numeric,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS pg_catalog.numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    side int := sign(size)::int;
    qty numeric := abs(size);
    inv boolean := kind = 'inverse';
    num numeric;
    worst numeric;
    depth numeric;
BEGIN
    IF NOT (mark_price > 0 AND mark_price < 'Infinity') THEN
        RAISE EXCEPTION 'mark_price must be greater than zero'
            USING ERRCODE = '22023', DETAIL = format('mark_price is %s.', mark_price);
    END IF;
    IF NOT (penalty_rate >= 0 AND penalty_rate < 'Infinity') THEN
        RAISE EXCEPTION 'penalty_rate must not be negative'
            USING ERRCODE = '22023', DETAIL = format('penalty_rate is %s.', penalty_rate);
    END IF;
    IF size = 'NaN' OR abs(size) = 'Infinity' THEN
        RAISE EXCEPTION 'size must be a finite number' USING ERRCODE = '22023';
    END IF;
    IF cardinality(level_prices) <> cardinality(level_sizes) THEN
        RAISE EXCEPTION 'level_prices and level_sizes must have the same length'
            USING ERRCODE = '22023',
                  DETAIL = format('They have %s and %s elements.',
                                  cardinality(level_prices), cardinality(level_sizes));
    END IF;
    IF EXISTS (SELECT FROM unnest(level_prices, level_sizes) AS l(p, s)
                WHERE p IS NULL OR s IS NULL OR NOT (p > 0 AND p < 'Infinity')
                   OR NOT (s >= 0 AND s < 'Infinity')) THEN
        RAISE EXCEPTION 'a book level must have a price greater than zero and a size of at least zero'
            USING ERRCODE = '22023';
    END IF;
    IF side = 0 THEN
        RETURN 0.000000;
    END IF;
    WITH lv AS (
        SELECT CASE WHEN inv
                    THEN @extschema@._ceil_div(greatest(side * (mark_price - l.p), 0) * 1e20, l.p) * 1e-20
                    ELSE greatest(side * (mark_price - l.p), 0) END AS slip,
               l.s,
               coalesce(sum(l.s) OVER (ORDER BY side * l.p DESC, l.ord
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
               row_number() OVER (ORDER BY side * l.p ASC, l.ord DESC) AS from_worst
          FROM unnest(level_prices, level_sizes) WITH ORDINALITY AS l(p, s, ord))
    SELECT coalesce(sum(lv.slip * least(lv.s, greatest(qty - lv.before, 0))), 0),
           coalesce(max(lv.slip) FILTER (WHERE lv.from_worst = 1), 0),
           coalesce(sum(lv.s), 0)
      INTO num, worst, depth
      FROM lv;
    IF qty > depth THEN
        num := num + (qty - depth) * (worst + CASE WHEN inv THEN penalty_rate
                                                  ELSE penalty_rate * mark_price END);
    END IF;
    RETURN @extschema@._ceil_div(num * 1e6, CASE WHEN inv THEN qty ELSE qty * mark_price END) * 1e-6;
END
$fn$;

-- Every position's liquidity add-on against a book snapshot table, one row per
-- position: the position key (as enforcement's events name it), its symbol as
-- text, its size and its rate.  The book has one row per level: symbol, side
-- ('bid' or 'ask', text), price, size (contracts); columns maps other names
-- ("book.symbol", "book.side", "book.price", "book.size") and the positions'
-- and marks' (symbol, size, mark_price).  Instruments give the kind (optional
-- column kind).  Positions of a symbol without a mark are left out.
CREATE FUNCTION @extschema@.liquidity_addons(
    positions pg_catalog.regclass, marks pg_catalog.regclass,
    instruments pg_catalog.regclass, book pg_catalog.regclass,
    penalty_rate pg_catalog.numeric, columns pg_catalog.jsonb DEFAULT '{}')
RETURNS TABLE (position_key pg_catalog.jsonb, symbol pg_catalog.text,
               size pg_catalog.numeric, addon_rate pg_catalog.numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    b_sym text := quote_ident(coalesce(columns ->> 'book.symbol', 'symbol'));
    b_side text := quote_ident(coalesce(columns ->> 'book.side', 'side'));
    b_price text := quote_ident(coalesce(columns ->> 'book.price', 'price'));
    b_size text := quote_ident(coalesce(columns ->> 'book.size', 'size'));
    src record;
BEGIN
    SELECT * INTO src FROM @extschema@._report_book(positions, marks, instruments,
                                                     columns - ARRAY['book.symbol', 'book.side',
                                                                     'book.price', 'book.size']);
    RETURN QUERY EXECUTE format(
        'WITH b AS (
             SELECT CAST(x.%2$s AS pg_catalog.text) AS symbol,
                    pg_catalog.array_agg(CAST(x.%4$s AS pg_catalog.numeric)) FILTER (WHERE x.%3$s = ''bid'') AS bid_p,
                    pg_catalog.array_agg(CAST(x.%5$s AS pg_catalog.numeric)) FILTER (WHERE x.%3$s = ''bid'') AS bid_s,
                    pg_catalog.array_agg(CAST(x.%4$s AS pg_catalog.numeric)) FILTER (WHERE x.%3$s = ''ask'') AS ask_p,
                    pg_catalog.array_agg(CAST(x.%5$s AS pg_catalog.numeric)) FILTER (WHERE x.%3$s = ''ask'') AS ask_s
               FROM %1$s x GROUP BY 1)
         SELECT k.position_key, CAST(k.symbol AS pg_catalog.text), k.size,
                @extschema@.liquidity_addon(k.size, k.mark_price,
                    CASE WHEN k.size OPERATOR(pg_catalog.>) 0 THEN COALESCE(b.bid_p, ''{}'') ELSE COALESCE(b.ask_p, ''{}'') END,
                    CASE WHEN k.size OPERATOR(pg_catalog.>) 0 THEN COALESCE(b.bid_s, ''{}'') ELSE COALESCE(b.ask_s, ''{}'') END,
                    $1, k.kind)
           FROM (%6$s) k
           LEFT JOIN b ON b.symbol OPERATOR(pg_catalog.=) CAST(k.symbol AS pg_catalog.text)
          WHERE k.mark_price IS NOT NULL
          ORDER BY 2, 1',
        book, b_sym, b_side, b_price, b_size, src.book_sql)
      USING penalty_rate;
END
$fn$;
