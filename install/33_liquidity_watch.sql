-- Dynamic requirements, part 2 in enforcement: each instrument's liquidity
-- curve, the liquidity add-on of a position as a function of its size for the
-- current book snapshot, kept in an instruments column that enforcement reads
-- (doc/dynamic.md, doc/enforcement.md).  The curve is built once per snapshot
-- change at the mark enforcement holds then, and fixed until the next: every
-- stored price of a position is the dynamic_* figure with the add-on
-- liquidity_addon(size, that mark, the snapshot's levels, penalty_rate, kind).

-- The liquidity add-on of a position of `size` contracts from a curve that
-- liquidity_curve built (src/liquidity_curve.c): the digits of
-- liquidity_addon at the curve's mark, in O(log levels).
CREATE FUNCTION @extschema@.liquidity_curve_addon(curve pg_catalog.jsonb, size pg_catalog.numeric)
RETURNS pg_catalog.numeric
AS 'MODULE_PATHNAME', 'liquidity_curve_addon'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The liquidity curve of one book snapshot at mark_price: per side (bid: what
-- closes a long; ask: a short) the pieces [from, cost, slope] of the cost of
-- closing q contracts, a piecewise linear function of q: one piece per level
-- of positive size, best first (from: the contracts the better levels fill,
-- cost: what they cost, slope: the level's slippage as liquidity_addon takes
-- it), then [depth, cost of the whole side, worst slippage + penalty] for what
-- the book cannot fill.  The inputs are checked as liquidity_addon checks them.
CREATE FUNCTION @extschema@.liquidity_curve(
    mark_price pg_catalog.numeric,
    bid_prices pg_catalog.numeric[], bid_sizes pg_catalog.numeric[],
    ask_prices pg_catalog.numeric[], ask_sizes pg_catalog.numeric[],
    penalty_rate pg_catalog.numeric,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    inv boolean := kind = 'inverse';
    curve jsonb := jsonb_build_object('kind', kind, 'mark_price', mark_price,
                                      'penalty_rate', penalty_rate);
    side int;
    lp numeric[];
    ls numeric[];
    pieces jsonb;
    worst numeric;
    depth numeric;
    total numeric;
BEGIN
    PERFORM @extschema@.liquidity_addon(0, mark_price, bid_prices, bid_sizes, penalty_rate, kind);
    PERFORM @extschema@.liquidity_addon(0, mark_price, ask_prices, ask_sizes, penalty_rate, kind);
    FOREACH side IN ARRAY ARRAY[1, -1] LOOP
        IF side = 1 THEN
            lp := bid_prices;
            ls := bid_sizes;
        ELSE
            lp := ask_prices;
            ls := ask_sizes;
        END IF;
        WITH lv AS (
            SELECT CASE WHEN inv
                        THEN @extschema@._ceil_div(greatest(side * (mark_price - l.p), 0) * 1e20, l.p) * 1e-20
                        ELSE greatest(side * (mark_price - l.p), 0) END AS slip,
                   l.s, side * l.p AS best, l.ord
              FROM unnest(lp, ls) WITH ORDINALITY AS l(p, s, ord)),
        w AS (
            SELECT lv.*, coalesce(sum(lv.s) OVER o, 0) AS before,
                   coalesce(sum(lv.slip * lv.s) OVER o, 0) AS cost_before
              FROM lv
            WINDOW o AS (ORDER BY lv.best DESC, lv.ord
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING))
        SELECT coalesce(jsonb_agg(jsonb_build_array(w.before, w.cost_before, w.slip)
                                  ORDER BY w.best DESC, w.ord) FILTER (WHERE w.s > 0), '[]'),
               coalesce(max(w.slip), 0), coalesce(sum(w.s), 0), coalesce(sum(w.slip * w.s), 0)
          INTO pieces, worst, depth, total
          FROM w;
        pieces := pieces || jsonb_build_array(jsonb_build_array(
                      depth, total,
                      worst + CASE WHEN inv THEN penalty_rate ELSE penalty_rate * mark_price END));
        curve := curve || jsonb_build_object(CASE WHEN side = 1 THEN 'bid' ELSE 'ask' END, pieces);
    END LOOP;
    RETURN curve;
END
$fn$;

-- One row per book watched for an enforced positions table
-- (isomargin.watch_liquidity).
CREATE SEQUENCE @extschema@.liquidity_watches_id_seq AS pg_catalog.int4;
CREATE TABLE @extschema@.liquidity_watches (
    id            pg_catalog.int4 NOT NULL
                  DEFAULT pg_catalog.nextval('@extschema@.liquidity_watches_id_seq'::pg_catalog.regclass)
                  PRIMARY KEY,
    positions     pg_catalog.regclass NOT NULL UNIQUE,
    book          pg_catalog.regclass NOT NULL UNIQUE,
    symbol_column pg_catalog.name NOT NULL,
    side_column   pg_catalog.name NOT NULL,
    price_column  pg_catalog.name NOT NULL,
    size_column   pg_catalog.name NOT NULL,
    penalty_rate  pg_catalog.numeric NOT NULL
);
ALTER SEQUENCE @extschema@.liquidity_watches_id_seq OWNED BY @extschema@.liquidity_watches.id;
COMMENT ON TABLE @extschema@.liquidity_watches IS
    'isomargin dynamic requirements: the order-book tables watched for the liquidity curves of an enforced book';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.liquidity_watches', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.liquidity_watches_id_seq', '');

-- Internal: rebuild the liquidity curves of the instruments `symbols` (text)
-- from the book, each at the mark enforcement holds for it, in symbol order.
-- Per instrument: its row is locked first (a concurrent book change of the
-- same instrument waits, then reads the book with the first one's levels), a
-- curve that changes is written to the instruments' curve column (the
-- instruments trigger re-prices and re-flags the positions) and recorded in
-- isomargin.addon_changes with its cause.  An instrument without a mark yet
-- keeps its curve; a symbol that is no instrument is ignored.  Returns how
-- many curves changed.
CREATE FUNCTION @extschema@._liquidity_refresh(w @extschema@.liquidity_watches,
                                               symbols pg_catalog.text[])
RETURNS pg_catalog.int4
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    e @extschema@.enforcement;
    ci jsonb;
    sym_type text;
    kind_sql text;
    sym text;
    found_row boolean;
    kind @extschema@.contract_kind;
    old_curve jsonb;
    mark numeric;
    bp numeric[];
    bs numeric[];
    ap numeric[];
    az numeric[];
    curve jsonb;
    changed int4 := 0;
BEGIN
    SELECT x.* INTO e FROM @extschema@.enforcement x WHERE x.positions = w.positions;
    IF NOT FOUND OR e.columns #>> '{instruments,liquidity_curve}' IS NULL THEN
        RAISE EXCEPTION 'table % is not enforced with a liquidity_curve column', w.positions
            USING ERRCODE = '22023',
                  HINT = format('Run isomargin.unwatch_liquidity(%L).', w.book::text);
    END IF;
    ci := e.columns -> 'instruments';
    SELECT format_type(a.atttypid, NULL) INTO sym_type FROM pg_attribute a
     WHERE a.attrelid = e.instruments AND a.attname = ci ->> 'symbol';
    kind_sql := CASE WHEN ci ->> 'kind' IS NULL THEN '''linear'''
                     ELSE format('CAST(CAST(i.%I AS pg_catalog.text) AS @extschema@.contract_kind)',
                                 ci ->> 'kind') END;
    FOR sym IN SELECT DISTINCT s FROM unnest(symbols) AS s WHERE s IS NOT NULL ORDER BY 1 LOOP
        EXECUTE format('SELECT true, %s, i.%I FROM %s i WHERE i.%I OPERATOR(pg_catalog.=) CAST($1 AS %s)
                         FOR NO KEY UPDATE',
                       kind_sql, ci ->> 'liquidity_curve', e.instruments, ci ->> 'symbol', sym_type)
           INTO found_row, kind, old_curve USING sym;
        CONTINUE WHEN found_row IS NULL;
        mark := @extschema@.checked_mark(w.positions, sym);
        CONTINUE WHEN mark IS NULL;
        EXECUTE format(
            'SELECT pg_catalog.array_agg(CAST(b.%2$I AS pg_catalog.numeric)) FILTER (WHERE CAST(b.%4$I AS pg_catalog.text) OPERATOR(pg_catalog.=) ''bid''),
                    pg_catalog.array_agg(CAST(b.%3$I AS pg_catalog.numeric)) FILTER (WHERE CAST(b.%4$I AS pg_catalog.text) OPERATOR(pg_catalog.=) ''bid''),
                    pg_catalog.array_agg(CAST(b.%2$I AS pg_catalog.numeric)) FILTER (WHERE CAST(b.%4$I AS pg_catalog.text) OPERATOR(pg_catalog.=) ''ask''),
                    pg_catalog.array_agg(CAST(b.%3$I AS pg_catalog.numeric)) FILTER (WHERE CAST(b.%4$I AS pg_catalog.text) OPERATOR(pg_catalog.=) ''ask'')
               FROM %1$s b WHERE CAST(b.%5$I AS pg_catalog.text) OPERATOR(pg_catalog.=) $1',
            w.book, w.price_column, w.size_column, w.side_column, w.symbol_column)
           INTO bp, bs, ap, az USING sym;
        curve := @extschema@.liquidity_curve(mark, coalesce(bp, '{}'), coalesce(bs, '{}'),
                                             coalesce(ap, '{}'), coalesce(az, '{}'),
                                             w.penalty_rate, kind);
        CONTINUE WHEN curve IS NOT DISTINCT FROM old_curve;
        EXECUTE format('UPDATE %s i SET %I = $1 WHERE i.%I OPERATOR(pg_catalog.=) CAST($2 AS %s)',
                       e.instruments, ci ->> 'liquidity_curve', ci ->> 'symbol', sym_type)
          USING curve, sym;
        INSERT INTO @extschema@.addon_changes (instruments, symbol, old_rate, new_rate, cause)
        VALUES (e.instruments, sym, NULL, NULL,
                jsonb_build_object('source', 'liquidity', 'watch', w.id, 'book', w.book::text,
                                   'mark_price', mark, 'penalty_rate', w.penalty_rate,
                                   'bid_levels', coalesce(cardinality(bp), 0),
                                   'ask_levels', coalesce(cardinality(ap), 0),
                                   'curve', curve));
        changed := changed + 1;
    END LOOP;
    RETURN changed;
END
$fn$;

-- The statement triggers on a watched book: rebuild the curves of the
-- instruments whose levels the statement inserted, updated or deleted (every
-- instrument with a curve after a TRUNCATE).  Argument: the watch id.
CREATE FUNCTION @extschema@.liquidity_trigger()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    w @extschema@.liquidity_watches;
    e @extschema@.enforcement;
    syms text[];
BEGIN
    IF TG_LEVEL <> 'STATEMENT' OR TG_WHEN <> 'AFTER' OR TG_NARGS <> 1 THEN
        RAISE EXCEPTION 'isomargin.liquidity_trigger must be an AFTER statement trigger with the watch id'
            USING ERRCODE = '39P01';
    END IF;
    SELECT * INTO w FROM @extschema@.liquidity_watches x
     WHERE x.id::text = TG_ARGV[0] AND x.book = TG_RELID;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table % has no liquidity watch %', TG_RELID::regclass, TG_ARGV[0]
            USING ERRCODE = '39P01';
    END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('SELECT pg_catalog.array_agg(DISTINCT CAST(n.%I AS pg_catalog.text)) FROM isomargin_new_levels n',
                       w.symbol_column) INTO syms;
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE format('SELECT pg_catalog.array_agg(DISTINCT s) FROM (
                            SELECT CAST(n.%1$I AS pg_catalog.text) FROM isomargin_new_levels n
                            UNION ALL SELECT CAST(o.%1$I AS pg_catalog.text) FROM isomargin_old_levels o) AS x(s)',
                       w.symbol_column) INTO syms;
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE format('SELECT pg_catalog.array_agg(DISTINCT CAST(o.%I AS pg_catalog.text)) FROM isomargin_old_levels o',
                       w.symbol_column) INTO syms;
    ELSE
        SELECT x.* INTO e FROM @extschema@.enforcement x WHERE x.positions = w.positions;
        IF FOUND AND e.columns #>> '{instruments,liquidity_curve}' IS NOT NULL THEN
            EXECUTE format('SELECT pg_catalog.array_agg(CAST(i.%I AS pg_catalog.text)) FROM %s i WHERE i.%I IS NOT NULL',
                           e.columns #>> '{instruments,symbol}', e.instruments,
                           e.columns #>> '{instruments,liquidity_curve}') INTO syms;
        END IF;
    END IF;
    PERFORM @extschema@._liquidity_refresh(w, coalesce(syms, '{}'));
    RETURN NULL;
END
$fn$;

-- Watches an order-book table (one row per level: symbol, side 'bid' or
-- 'ask', price, size in contracts; columns maps book.symbol, book.side,
-- book.price, book.size) for the enforced positions table `positions`, whose
-- attachment maps an instruments column liquidity_curve (jsonb): builds the
-- curve of every instrument the book has levels of, then keeps the curves
-- current with statement triggers on INSERT, UPDATE, DELETE and TRUNCATE of
-- the book.  Returns the watch id.
CREATE FUNCTION @extschema@.watch_liquidity(
    positions pg_catalog.regclass, book pg_catalog.regclass,
    penalty_rate pg_catalog.numeric, columns pg_catalog.jsonb DEFAULT '{}')
RETURNS pg_catalog.int4
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    w @extschema@.liquidity_watches;
    k text;
    syms text[];
    known text[] := ARRAY['book.symbol', 'book.side', 'book.price', 'book.size'];
BEGIN
    IF positions IS NULL OR book IS NULL OR penalty_rate IS NULL OR columns IS NULL THEN
        RAISE EXCEPTION 'positions, book, penalty_rate and columns must not be null'
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
    IF NOT (penalty_rate >= 0 AND penalty_rate < 'Infinity') THEN
        RAISE EXCEPTION 'penalty_rate must not be negative'
            USING ERRCODE = '22023', DETAIL = format('penalty_rate is %s.', penalty_rate);
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.enforcement x WHERE x.positions = watch_liquidity.positions) THEN
        RAISE EXCEPTION 'table "%" is not enforced', positions USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.enforcement x WHERE x.positions = watch_liquidity.positions
                    AND x.columns #>> '{instruments,liquidity_curve}' IS NOT NULL) THEN
        RAISE EXCEPTION 'the enforcement of table "%" has no liquidity_curve column', positions
            USING ERRCODE = '22023',
                  HINT = 'Add a jsonb column liquidity_curve to the instruments table (or map one with columns => ''{"liquidity_curve": "..."}'') before isomargin.enforce().';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = book AND c.relkind IN ('r', 'p')) THEN
        RAISE EXCEPTION '% is not a table', book USING ERRCODE = '22023';
    END IF;
    w.positions := positions;
    w.book := book;
    w.symbol_column := coalesce(columns ->> 'book.symbol', 'symbol');
    w.side_column := coalesce(columns ->> 'book.side', 'side');
    w.price_column := coalesce(columns ->> 'book.price', 'price');
    w.size_column := coalesce(columns ->> 'book.size', 'size');
    w.penalty_rate := penalty_rate;
    FOREACH k IN ARRAY ARRAY[w.symbol_column, w.side_column, w.price_column, w.size_column] LOOP
        IF NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = book AND a.attname = k
                        AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column "%" of table % does not exist', k, book
                USING ERRCODE = '22023';
        END IF;
    END LOOP;
    IF EXISTS (SELECT FROM @extschema@.liquidity_watches x
                WHERE x.book = watch_liquidity.book OR x.positions = watch_liquidity.positions) THEN
        RAISE EXCEPTION 'table % or table % is already watched', book, positions
            USING ERRCODE = '22023';
    END IF;
    w.id := nextval('@extschema@.liquidity_watches_id_seq');
    INSERT INTO @extschema@.liquidity_watches SELECT w.*;
    EXECUTE format('SELECT pg_catalog.array_agg(DISTINCT CAST(b.%I AS pg_catalog.text)) FROM %s b',
                   w.symbol_column, book) INTO syms;
    PERFORM @extschema@._liquidity_refresh(w, coalesce(syms, '{}'));
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS isomargin_new_levels
                    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.liquidity_trigger(%L)',
                   'isomargin_liquidity_' || w.id || '_insert', book, w.id);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s
                    REFERENCING OLD TABLE AS isomargin_old_levels NEW TABLE AS isomargin_new_levels
                    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.liquidity_trigger(%L)',
                   'isomargin_liquidity_' || w.id || '_update', book, w.id);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS isomargin_old_levels
                    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.liquidity_trigger(%L)',
                   'isomargin_liquidity_' || w.id || '_delete', book, w.id);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s
                    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.liquidity_trigger(%L)',
                   'isomargin_liquidity_' || w.id || '_truncate', book, w.id);
    RETURN w.id;
END
$fn$;

-- Stops a watch: drops its triggers.  The curves it wrote stay in the
-- instruments table (set them to NULL to stop charging them).
CREATE FUNCTION @extschema@.unwatch_liquidity(book pg_catalog.regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    wid int4;
    op text;
BEGIN
    DELETE FROM @extschema@.liquidity_watches x WHERE x.book = unwatch_liquidity.book
    RETURNING x.id INTO wid;
    IF wid IS NULL THEN
        RAISE EXCEPTION 'table % is not watched', book USING ERRCODE = '22023';
    END IF;
    FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', 'isomargin_liquidity_' || wid || '_' || op, book);
    END LOOP;
END
$fn$;
