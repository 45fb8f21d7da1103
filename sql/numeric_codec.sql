-- The numeric codec (src/numeric_codec.c) reads numeric's base-10000 digits
-- straight from the packed datum into an int128 and builds result datums
-- itself.  Round trips through the public API must give back numeric's own
-- value, text and datum, for every digit-group alignment, both varlena
-- header sizes and both routes (int128 below 10^37, numeric beyond):
--   notional(size => 1, price => x)                       = x       (x > 0)
--   notional(size => x, price => 1)                       = abs(x)
--   unrealized_pnl(size => x, entry_price => 1, mark_price => 2) = x
--   equity(size => 0, entry_price => 1, mark_price => 1, margin => x) = x (x >= 0)
-- "Same" means the same text (digits and display scale), the same binary
-- form (numeric_send: digit groups, weight, sign, dscale) and the same datum
-- size as numeric's own canonical datum (so the same short or long numeric
-- header).
SET extra_float_digits = 0;
SELECT setseed(0.314159);

CREATE FUNCTION pg_temp.same(got numeric, want numeric) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT got::text = want::text
       AND numeric_send(got) = numeric_send(want)
       AND pg_column_size(got) = pg_column_size(want::text::numeric)
$$;

-- The round trips that disagree with numeric for x, as a list ('' if none);
-- an error counts as a failure.  The datum is passed on as it came, header
-- and all.
CREATE FUNCTION pg_temp.codec_failures_unguarded(x numeric) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws(',',
        CASE WHEN x > 0 AND NOT pg_temp.same(isomargin.notional(size => 1, price => x), x)
             THEN 'price' END,
        CASE WHEN NOT pg_temp.same(isomargin.notional(size => x, price => 1), abs(x))
             THEN 'size' END,
        CASE WHEN NOT pg_temp.same(isomargin.unrealized_pnl(size => x, entry_price => 1, mark_price => 2), x)
             THEN 'signed size' END,
        CASE WHEN x >= 0 AND NOT pg_temp.same(isomargin.equity(size => 0, entry_price => 1,
                                                               mark_price => 1, margin => x), x)
             THEN 'margin' END)
$$;

CREATE FUNCTION pg_temp.codec_failures(x numeric) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN pg_temp.codec_failures_unguarded(x);
EXCEPTION WHEN OTHERS THEN
    RETURN 'error ' || SQLSTATE || ': ' || SQLERRM;
END
$$;

-- n random decimal digits, the first non-zero; about a third of the others
-- are zero, so that whole zero digit groups occur inside values.
CREATE FUNCTION pg_temp.rand_digits(n int) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT string_agg(CASE WHEN i = 1 THEN 1 + floor(random() * 9)::int
                           WHEN random() < 0.35 THEN 0
                           ELSE floor(random() * 10)::int END::text, '' ORDER BY i)
    FROM generate_series(1, n) i
$$;

CREATE FUNCTION pg_temp.rand_sign() RETURNS text
LANGUAGE sql VOLATILE AS $$ SELECT CASE WHEN random() < 0.5 THEN '-' ELSE '' END $$;

-- Stored in a table, values up to 126 bytes get a 1-byte varlena header.
CREATE TEMP TABLE codec_values (id int GENERATED ALWAYS AS IDENTITY, grp text NOT NULL, x numeric NOT NULL);

-- The grid: every display scale s in 0..40 and every position p of the
-- leading digit (x has a digit at 10^p) from 10^-s to 10^43, that is digit
-- group weights -10..10, three values each: one significant digit (trailing
-- zero groups), every digit from 10^p down to 10^-s (at most 60), and a
-- random count in between.  x * 10^s has p + s + 1 digits: it fits the
-- int128 route when that is at most 37 and s <= 38.
INSERT INTO codec_values (grp, x)
SELECT CASE WHEN p + s + 1 <= 37 AND s <= 38 THEN 'grid, int128' ELSE 'grid, beyond int128' END,
       round((pg_temp.rand_sign() || pg_temp.rand_digits(nd) || 'e' || (p - nd + 1))::numeric, s)
FROM generate_series(0, 40) s
CROSS JOIN LATERAL generate_series(-s, 43) p
CROSS JOIN LATERAL (VALUES (1), (2), (3)) v(variant)
CROSS JOIN LATERAL (SELECT CASE variant WHEN 1 THEN 1
                                        WHEN 2 THEN least(p + s + 1, 60)
                                        ELSE 1 + floor(random() * least(p + s + 1, 60))::int
                           END AS nd) n
ORDER BY s, p, variant;

-- Zero with every display scale up to 100.
INSERT INTO codec_values (grp, x)
SELECT 'zero', round(0::numeric, s) FROM generate_series(0, 100) s;

-- Either side of the int128 limit: x * 10^s = 10^37 - 1 (fits), 10^37 and
-- 10^37 + 1 (do not), at every scale the route allows, both signs.
INSERT INTO codec_values (grp, x)
SELECT 'int128 limit', (sign || c || 'e-' || s)::numeric
FROM generate_series(0, 38) s,
     (VALUES ('9999999999999999999999999999999999999'),
             ('10000000000000000000000000000000000000'),
             ('10000000000000000000000000000000000001')) v(c),
     (VALUES (''), ('-')) w(sign)
ORDER BY s, c, sign;

-- Digit groups that, read as one integer, reach 2^127: 10 groups hold up to
-- 40 digits, more than an int128 does.  N * 10^-k for N around 2^127, 2^128
-- and powers of ten, every k up to 40, both signs.
INSERT INTO codec_values (grp, x)
SELECT 'around 2^127', (sign || n || 'e-' || k)::numeric
FROM (VALUES ('170141183460469231731687303715884105727'), ('170141183460469231731687303715884105728'),
             ('170141183460469231731687303715884105729'), ('340282366920938463463374607431768211455'),
             ('340282366920938463463374607431768211456'), ('340282366920938463463374607431768211461'),
             ('100000000000000000000000000000000000000'), ('999999999999999999999999999999999999999'),
             ('9999999999999999999999999999999999999999')) v(n),
     generate_series(0, 40) k,
     (VALUES (''), ('-')) w(sign)
ORDER BY n, k, sign;

-- Display scales beyond 40 (above 63 numeric needs its long header).
INSERT INTO codec_values (grp, x)
SELECT 'scale 41..100', round((pg_temp.rand_sign() || pg_temp.rand_digits(nd) || 'e' || e)::numeric, s)
FROM generate_series(41, 100) s
CROSS JOIN LATERAL (SELECT 1 + floor(random() * 40)::int AS nd) n
CROSS JOIN LATERAL (SELECT -s + floor(random() * 30)::int AS e) x;

-- Many digits, far beyond int128 and beyond numeric's short header weights.
INSERT INTO codec_values (grp, x)
SELECT 'many digits', round((pg_temp.rand_sign() || pg_temp.rand_digits(nd) || 'e' || e)::numeric, greatest(-e, 0))
FROM (VALUES (38, 0), (39, -1), (40, -38), (45, -20), (80, -40), (100, 0), (100, 200),
             (200, -300), (500, -250), (1000, 0), (1000, -1000), (1000, 3000)) v(nd, e);

SELECT grp, count(*) AS values, min(scale(x)) AS min_scale, max(scale(x)) AS max_scale,
       count(*) FILTER (WHERE x < 0) > 0 AS has_negative
FROM codec_values GROUP BY grp ORDER BY min(id);

-- Coverage of the grid: the weight of the leading digit group (from the
-- binary form) takes every value from -10 to 10; every weight has values
-- with 1, 2, 3 and 4 digits in the leading group.
SELECT min(w) AS min_weight, max(w) AS max_weight, count(DISTINCT w) AS weights,
       count(DISTINCT (w, lead_digits)) AS weight_and_leading_digits
FROM (SELECT (get_byte(b, 2) * 256 + get_byte(b, 3) + 32768) % 65536 - 32768 AS w,
             length((get_byte(b, 8) * 256 + get_byte(b, 9))::text) AS lead_digits
      FROM codec_values, LATERAL numeric_send(x) b
      WHERE grp LIKE 'grid%' AND x <> 0) g;

-- The round trips: from the table column (1-byte header, read in place) and
-- from a computed value (4-byte header).  No failures.
SELECT grp, 'table column' AS via,
       count(*) FILTER (WHERE pg_column_size(x) = pg_column_size(x::text::numeric) - 3) AS short_headers,
       count(*) AS values,
       count(*) FILTER (WHERE pg_temp.codec_failures(x) <> '') AS failures
FROM codec_values GROUP BY grp
UNION ALL
SELECT grp, 'computed',
       count(*) FILTER (WHERE pg_column_size(y) = pg_column_size(x::text::numeric) - 3),
       count(*),
       count(*) FILTER (WHERE pg_temp.codec_failures(y) <> '')
FROM codec_values, LATERAL (SELECT x::text::numeric AS y OFFSET 0) c GROUP BY grp
ORDER BY 1, 2 DESC;

-- What a failure would look like (none expected): the first few.
SELECT * FROM (SELECT id, x, pg_temp.codec_failures(x) AS failures FROM codec_values OFFSET 0) v
WHERE failures <> '' ORDER BY id LIMIT 5;

-- Values stored compressed inline and out of line (TOAST): read through a
-- detoasted copy, on the numeric route.
CREATE TEMP TABLE codec_toasted (x numeric);
ALTER TABLE codec_toasted ALTER COLUMN x SET STORAGE external;
INSERT INTO codec_toasted
SELECT (repeat('1234567890', 500) || '.' || repeat('5', 100))::numeric
UNION ALL
SELECT ('-' || pg_temp.rand_digits(6000) || 'e-3000')::numeric;
CREATE TEMP TABLE codec_compressed (x numeric);  -- storage main: compressed inline
INSERT INTO codec_compressed
SELECT (repeat('1000', 1200) || '.' || repeat('0001', 200))::numeric
UNION ALL
SELECT ('-' || repeat('9', 6000) || '.5')::numeric;
SELECT 'out of line' AS stored, length(x::text) AS text_length,
       pg_temp.codec_failures(x) = '' AS round_trips
FROM codec_toasted
UNION ALL
SELECT 'compressed', length(x::text), pg_temp.codec_failures(x) = ''
FROM codec_compressed
ORDER BY 1, 2;
SELECT (SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'codec_toasted'::regclass) > 0
           AS out_of_line_in_toast_table,
       (SELECT bool_and(pg_column_size(x) * 4 < pg_column_size(x::text::numeric)) FROM codec_compressed)
           AS compressed_inline;

-- Products: notional(size => y, price => x) = abs(y) * x and
-- unrealized_pnl(size => y, entry_price => 1, mark_price => 2, contract_size => x) = y * x
-- for 20,000 pairs of grid values: results built by the codec at display
-- scales up to 80 and coefficients up to the int128 limit, or by numeric
-- when the product does not fit.  Pairs come from the table (1-byte headers).
CREATE FUNCTION pg_temp.product_failures(y numeric, x numeric) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN concat_ws(',',
        CASE WHEN NOT pg_temp.same(isomargin.notional(size => y, price => x), abs(y) * x)
             THEN 'notional' END,
        CASE WHEN NOT pg_temp.same(isomargin.unrealized_pnl(size => y, entry_price => 1, mark_price => 2,
                                                            contract_size => x), y * x)
             THEN 'pnl' END);
EXCEPTION WHEN OTHERS THEN
    RETURN 'error ' || SQLSTATE || ': ' || SQLERRM;
END
$$;
CREATE TEMP TABLE codec_pairs AS
SELECT i, a.x AS y, b.x AS x
FROM generate_series(1, 20000) i
JOIN codec_values a ON a.id = 1 + (i * 7919) % 7872
JOIN codec_values b ON b.id = 1 + (i * 104729 + 17) % 7872
WHERE b.x > 0;
SELECT count(*) > 9000 AS pairs_over_9000,
       count(*) FILTER (WHERE scale(y) + scale(x) > 63
                          AND abs(y * x) * ('1e' || (scale(y) + scale(x)))::numeric < 1e38) > 0
           AS has_int128_products_at_long_header_scales,
       count(*) FILTER (WHERE pg_temp.product_failures(y, x) <> '') AS failures
FROM codec_pairs;
SELECT * FROM (SELECT i, y, x, pg_temp.product_failures(y, x) AS failures FROM codec_pairs OFFSET 0) v
WHERE failures <> '' ORDER BY i LIMIT 5;

-- Products at the int128 edge: floor(sqrt(2^127 - 1))^2 still fits and is
-- built by the codec (39 digits); one more does not and goes through numeric.
SELECT isomargin.notional(size => 13043817825332782212, price => 13043817825332782212) AS fits,
       isomargin.notional(size => 13043817825332782213, price => 13043817825332782213) AS overflows,
       isomargin.unrealized_pnl(size => -1304381782533278221.2, entry_price => 1, mark_price => 2,
                                contract_size => 13043817825332782212) AS negative_fits;

-- A few round trips printed, from constants (4-byte headers).
SELECT isomargin.notional(size => 1, price => 0.00012300) AS trailing_zero_scale,
       isomargin.notional(size => 1, price => 10000.0001) AS zero_group_inside,
       isomargin.notional(size => 1, price => 100000000) AS trailing_zero_groups;
SELECT isomargin.notional(size => 1, price => 9999999999999999999999999999999999999) AS below_limit,
       isomargin.notional(size => 1, price => 10000000000000000000000000000000000000) AS at_limit;
SELECT isomargin.notional(size => 1, price => 0.9999999999999999999999999999999999999) AS below_limit_scale_37,
       isomargin.notional(size => 1, price => 0.10000000000000000000000000000000000000) AS at_limit_scale_38;
SELECT isomargin.unrealized_pnl(size => -0.00000000000000000000000000000000000001,
                                entry_price => 1, mark_price => 2) AS tiny_negative,
       isomargin.unrealized_pnl(size => -0.000, entry_price => 1, mark_price => 2) AS negative_zero,
       isomargin.notional(size => -123456789012345678901234567890.123456789, price => 1) AS big_negative;
SELECT isomargin.notional(size => 1.5, price => 1.5::numeric(80, 70)) AS long_header_scale;
-- Ten digit groups whose digits, read as one integer, pass 2^127 (they once
-- wrapped around in the int128 and came back as 5 and 0.0000005).
SELECT isomargin.notional(size => 1, price => 340282366920938463463374607431768211461) AS two_128_plus_5,
       isomargin.notional(size => 1, price => 34028236692093846346337460743176.8211461) AS scaled;
