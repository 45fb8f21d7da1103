-- liquidation_price with its rule read per row (src/rule.c: a cache keyed by
-- the bytes of the rule arguments) and the position read straight from its
-- datums into int64 (numeric_codec_read_int64), priced by the fast route.
-- The oracle is assess by the exact route alone: every answer here must be
-- its, to the text (digits and display scale).
-- The oracle: assess by the exact route alone (pg_temp.exact_assess).
\set ECHO none
\i test/lib/exact_assess.sql
\set ECHO all
SET extra_float_digits = 0;
SELECT setseed(0.271828);

-- 1. The reader, value by value.  With size 1, no margin and mmr 0 the
-- liquidation price is the entry price itself, at max(8, its scale)
-- decimals; with entry 10^12 and mmr 0 it is 10^12 - margin, rounded up to
-- 8 decimals.  Values: every display scale 0..24 and every position of the
-- leading digit from 10^-s to 10^14 (digit groups of weight -6..3, 1 to 7
-- groups, both varlena headers), one significant digit, all digits, and a
-- random count in between, about a third of the digits zeros.
-- nd random digits, the first non-zero, drawn six at a time, about a third
-- of the six-digit runs zeros (so that zero digit groups occur inside values).
CREATE FUNCTION pg_temp.some_digits(nd int) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT (1 + floor(random() * 9))::int::text ||
           left(string_agg(CASE WHEN random() < 0.3 THEN '000000'
                                ELSE lpad(floor(random() * 1000000)::int::text, 6, '0') END, ''), nd - 1)
    FROM generate_series(0, (nd - 1) / 6)
$$;
CREATE TEMP TABLE lane_values AS
SELECT round((pg_temp.some_digits(nd) || 'e' || (p - nd + 1))::numeric, s) AS x
FROM generate_series(0, 24) s
CROSS JOIN LATERAL generate_series(-s, 14) p
CROSS JOIN LATERAL (VALUES (1), (2), (3)) v(variant)
CROSS JOIN LATERAL (SELECT CASE variant WHEN 1 THEN 1
                                        WHEN 2 THEN p + s + 1
                                        ELSE 1 + floor(random() * (p + s + 1))::int
                           END AS nd) n;
INSERT INTO lane_values SELECT round(0::numeric, s) FROM generate_series(0, 24) s;

SELECT count(*) AS values,
       count(*) FILTER (WHERE CASE WHEN x > 0 THEN
           isomargin.liquidation_price(size => 1, entry_price => x, margin => 0, mmr => 0)::text
           IS DISTINCT FROM round(x, greatest(8, scale(x)))::text END) AS entry_from_column,
       count(*) FILTER (WHERE CASE WHEN x > 0 THEN
           isomargin.liquidation_price(size => 1, entry_price => x + 0, margin => 0, mmr => 0)::text
           IS DISTINCT FROM round(x, greatest(8, scale(x)))::text END) AS entry_computed,
       count(*) FILTER (WHERE CASE WHEN x < 1000000000000 THEN
           isomargin.liquidation_price(size => 1, entry_price => 1000000000000, margin => x, mmr => 0)::text
           IS DISTINCT FROM round(ceil((1000000000000 - x) * 100000000) / 100000000, 8)::text END) AS margin_from_column,
       count(*) FILTER (WHERE CASE WHEN x < 1000000000000 THEN
           isomargin.liquidation_price(size => 1, entry_price => 1000000000000, margin => x + 0, mmr => 0)::text
           IS DISTINCT FROM round(ceil((1000000000000 - x) * 100000000) / 100000000, 8)::text END) AS margin_computed
FROM lane_values;

-- 2. Books priced by the fast route against assess: sizes, entries and
-- margins of every magnitude (the huge ones decline), linear and inverse,
-- the rule from columns, as constants, and tiers as a constant.
CREATE TEMP TABLE lane_book AS
SELECT g AS id,
       round(((CASE WHEN random() < 0.5 THEN -1 ELSE 1 END) * 10 ^ (random() * 7 - 3))::numeric,
             (random() * 8)::int) * (CASE WHEN g % 53 = 0 THEN 0 WHEN g % 89 = 0 THEN 1e15 ELSE 1 END) AS q,
       round((0.0001 + random() * 70000)::numeric, (random() * 14)::int) AS e,
       round((random() * 30000)::numeric, (random() * 12)::int) AS m,
       (ARRAY['linear', 'linear', 'linear', 'inverse'])[g % 4 + 1]::isomargin.contract_kind AS kind,
       (ARRAY[1, 0.01, 1, 100])[g % 4 + 1]::numeric AS cs,
       (ARRAY[0.004, 0.005, 0.01, 0.005])[g % 4 + 1]::numeric AS r,
       (ARRAY[0.0005, 0, 0.0006, 0.0005])[g % 4 + 1]::numeric AS f
FROM generate_series(1, 4000) g;
UPDATE lane_book SET m = round(m * 0.0001, 8) WHERE kind = 'inverse';

-- The rule cache takes tiers given as a constant (psql variables here): in the
-- settlement currency for linear contracts, in coin for inverse ones.
\set tiers '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10; 2000000..10000000 mmr=0.1 max_leverage=5}'
\set tiers_coin '{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50; 10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10}'

SELECT count(*) AS rows,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, r, cs, kind, f)::text
                        IS DISTINCT FROM (pg_temp.exact_assess(q, e, e, m, r, cs, kind, f, 1)).liquidation_price::text) AS columns_mismatches,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, r, cs, kind, f) IS NULL) AS columns_nulls,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, 0.004, 1, 'linear', 0.0005)::text
                        IS DISTINCT FROM (pg_temp.exact_assess(q, e, e, m, 0.004, 1, 'linear', 0.0005, 1)).liquidation_price::text) AS linear_constants_mismatches,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, 0.005, 100, 'inverse', 0.0005)::text
                        IS DISTINCT FROM (pg_temp.exact_assess(q, e, e, m, 0.005, 100, 'inverse', 0.0005, 1)).liquidation_price::text) AS inverse_constants_mismatches
FROM lane_book;

-- With tiers the liquidation lands in another bracket than the entry's for
-- many rows (counted with bracket()); both kinds.
CREATE TEMP TABLE lane_prices AS
SELECT *, CASE kind WHEN 'linear'
          THEN isomargin.liquidation_price(size => q, entry_price => e, margin => m, tiers => :'tiers',
                                           contract_size => cs, kind => kind, fee_rate => f)
          ELSE isomargin.liquidation_price(size => q, entry_price => e, margin => m, tiers => :'tiers_coin',
                                           contract_size => cs, kind => kind, fee_rate => f) END AS lp
FROM lane_book;
CREATE FUNCTION pg_temp.tiers_check(k isomargin.contract_kind, t isomargin.tiers,
                                    OUT rows bigint, OUT tiers_mismatches bigint, OUT crossed_brackets bigint)
LANGUAGE sql AS $$
    SELECT count(*),
           count(*) FILTER (WHERE lp::text IS DISTINCT FROM
                            (pg_temp.exact_assess(q, e, e, m, t, cs, kind, f, 1)).liquidation_price::text),
           count(*) FILTER (WHERE lp IS NOT NULL AND
                            isomargin.bracket(t, isomargin.notional(q, lp, cs, kind))
                            <> isomargin.bracket(t, isomargin.notional(q, e, cs, kind)))
    FROM lane_prices WHERE kind = k
$$;
SELECT 'linear' AS kind, * FROM pg_temp.tiers_check('linear', :'tiers'::isomargin.tiers)
UNION ALL
SELECT 'inverse', * FROM pg_temp.tiers_check('inverse', :'tiers_coin'::isomargin.tiers);

-- Tiers that change from row to row (a CASE over two constants, and a
-- column joined from a table of schedules, one of them short enough to be
-- stored with a 1-byte header): the rule is cached by the value's bytes.
CREATE TEMP TABLE lane_schedules (n int, t isomargin.tiers);
INSERT INTO lane_schedules VALUES
    (0, :'tiers'), (1, :'tiers_coin'),
    (2, '{0..50000 mmr=0.004 max_leverage=125; 50000..250000 mmr=0.005 max_leverage=100; 250000..1000000 mmr=0.01 max_leverage=50}'),
    (3, '{0..1000000000 mmr=0.006 max_leverage=50}');
SELECT count(*) AS rows,
       count(*) FILTER (WHERE isomargin.liquidation_price(size => q, entry_price => e, margin => m,
                                  tiers => CASE kind WHEN 'linear' THEN :'tiers'::isomargin.tiers ELSE :'tiers_coin'::isomargin.tiers END,
                                  contract_size => cs, kind => kind, fee_rate => f)::text
                        IS DISTINCT FROM (pg_temp.exact_assess(q, e, e, m,
                                  CASE kind WHEN 'linear' THEN :'tiers'::isomargin.tiers ELSE :'tiers_coin'::isomargin.tiers END,
                                  cs, kind, f, 1)).liquidation_price::text) AS per_kind_mismatches,
       count(*) FILTER (WHERE isomargin.liquidation_price(size => q, entry_price => e, margin => m, tiers => s.t,
                                  contract_size => cs, kind => kind, fee_rate => f)::text
                        IS DISTINCT FROM (pg_temp.exact_assess(q, e, e, m, s.t, cs, kind, f, 1)).liquidation_price::text) AS column_mismatches,
       count(DISTINCT s.n) AS schedules,
       min(pg_column_size(s.t)) AS smallest_schedule_bytes
FROM lane_book b JOIN lane_schedules s ON s.n = b.id % 4;

-- 3. The rule cache: 300 distinct rules interleaved (more than its 64 slots,
-- so slots are shared and replaced), and rule values too long to be a key
-- (read every time).
SELECT count(*) AS rows, count(DISTINCT (r2, f2, cs2, kind)) AS distinct_rules,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, r2, cs2, kind, f2)::text
                        IS DISTINCT FROM (pg_temp.exact_assess(q, e, e, m, r2, cs2, kind, f2, 1)).liquidation_price::text) AS mismatches
FROM (SELECT *, round(0.001 + (id * 7 % 100) * 0.0003, 4) AS r2,
             (ARRAY[0, 0.0002, 0.0005])[id % 3 + 1]::numeric AS f2,
             CASE WHEN id % 5 = 0 THEN 0.123456789012345 ELSE (ARRAY[1, 10, 0.1, 100, 0.001])[id * 3 % 5 + 1]::numeric END AS cs2
      FROM lane_book) b;

-- 4. Errors: a bad rule value after many good rows gets the error of the
-- rule's own checks (rule.c), and a kind first seen late its answer.
SELECT count(isomargin.liquidation_price(q, e, m, CASE WHEN id = 3000 THEN 1 ELSE r END, cs, kind, f)) FROM lane_book;
SELECT count(isomargin.liquidation_price(q, e, m, r, cs, kind, CASE WHEN id = 3000 THEN -0.0001 ELSE f END)) FROM lane_book;
SELECT count(isomargin.liquidation_price(q, e, m, r, cs, kind, CASE WHEN id = 3000 THEN 1 - r ELSE f END)) FROM lane_book;
SELECT count(isomargin.liquidation_price(q, e, m, r, CASE WHEN id = 3000 THEN 0 ELSE cs END, kind, f)) FROM lane_book;
SELECT count(isomargin.liquidation_price(q, e, m, CASE WHEN id = 3000 THEN 'NaN' ELSE r END, cs, kind, f)) FROM lane_book;
SELECT count(isomargin.liquidation_price(CASE WHEN id = 3000 THEN 'Infinity' ELSE q END, e, m, r, cs, kind, f)) FROM lane_book;
SELECT count(isomargin.liquidation_price(q, CASE WHEN id = 3000 THEN 0 ELSE e END, m, r, cs, kind, f)) FROM lane_book;
SELECT count(isomargin.liquidation_price(q, e, CASE WHEN id = 3000 THEN -1 ELSE m END, r, cs, kind, f)) FROM lane_book;
SELECT count(isomargin.liquidation_price(size => q, entry_price => e, margin => m, tiers => :'tiers', contract_size => cs,
                                         kind => kind, fee_rate => CASE WHEN id = 3000 THEN 0.95 ELSE f END))
FROM lane_book;
SELECT count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, r, cs, kk, f)::text
                        IS DISTINCT FROM (pg_temp.exact_assess(q, e, e, m, r, cs, kk, f, 1)).liquidation_price::text) AS late_kind_mismatches
FROM (SELECT *, CASE WHEN id > 3500 THEN kind ELSE 'linear' END AS kk FROM lane_book) b;
