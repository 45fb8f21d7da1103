-- Dynamic requirements, item 4: the backtest and a parameter sweep (doc/dynamic.md).
-- A hand-checked path: three positions on one linear instrument, marks
-- 100, 95, 91, 89, 95, 112 one minute apart, one book snapshot before the first.
CREATE SCHEMA bt;
CREATE TABLE bt.instruments (symbol text PRIMARY KEY, kind isomargin.contract_kind,
                             contract_size numeric, mmr numeric);
CREATE TABLE bt.positions (id int PRIMARY KEY, symbol text, size numeric,
                           entry_price numeric, margin numeric);
CREATE TABLE bt.path (symbol text, mark_price numeric, mark_time timestamptz);
CREATE TABLE bt.book (symbol text, side text, price numeric, size numeric,
                      snapshot_time timestamptz);
INSERT INTO bt.instruments VALUES ('L', 'linear', 1, 0.004);
INSERT INTO bt.positions VALUES (1, 'L', 1, 100, 10), (2, 'L', 1, 100, 15), (3, 'L', -1, 100, 10);
INSERT INTO bt.path SELECT 'L', p, '2026-01-01 00:00+00'::timestamptz + (n - 1) * interval '1 minute'
  FROM unnest('{100, 95, 91, 89, 95, 112}'::numeric[]) WITH ORDINALITY AS x(p, n);
INSERT INTO bt.book VALUES ('L', 'bid', 99.5, 0.5, '2025-12-31 23:59+00'), ('L', 'bid', 99, 10, '2025-12-31 23:59+00'),
                           ('L', 'ask', 100.5, 0.5, '2025-12-31 23:59+00'), ('L', 'ask', 101, 10, '2025-12-31 23:59+00');

-- Flat 1%: #1 (LP 90/0.99 = 90.91) is still above maintenance at 91 (equity 1 > 0.91) and
-- bankrupt at 89 (equity -1); its close costs its liquidity add-on (0.5 at 99.5 and 0.5 at
-- 99 from a mark of 100: 0.75/100 = 0.0075) times the notional 89: shortfall
-- 0.6675 + 1 = 1.6675.  #2 (LP 85.86) survives.  #3, the short (LP 110/1.01 = 108.91), is
-- bankrupt at 112 (equity -2): shortfall 0.0075*112 + 2 = 2.84.
SELECT * FROM isomargin.backtest('bt.positions', 'bt.instruments', 'bt.path', 'bt.book',
                                 '{"name": "flat 1%", "mmr": 0.01}');
-- With the liquidity add-on charged (1.75% for #1 and #3): #1 liquidates at 91 (MM 1.5925
-- >= equity 1), its close covered (0.6825 - 1 < 0: shortfall 0); #3 still jumps to bankrupt.
SELECT * FROM isomargin.backtest('bt.positions', 'bt.instruments', 'bt.path', 'bt.book',
                                 '{"name": "flat 1% + liquidity", "mmr": 0.01, "liquidity": true}');
-- With a volatility add-on (half-life 1: decay 0.5; 0.1 x the volatility): at 95 the return
-- -0.05 seeds the variance 0.0025 (volatility 0.05, add-on 0.005); at 91 v = 0.00125 + 0.5 *
-- (4/95)^2 = 0.002136426592797783933519 (up), volatility 0.046221495... add-on 0.004623: #1's
-- MM 91 * 0.014623 = 1.330693 >= equity 1: liquidated at 91.
SELECT * FROM isomargin.backtest('bt.positions', 'bt.instruments', 'bt.path', 'bt.book',
                                 '{"name": "flat 1% + volatility", "mmr": 0.01,
                                   "volatility": {"half_life": 1, "floor": 0, "cap": 1, "multiplier": 0.1}}');
SELECT isomargin.ewma_volatility(0.002136426592797783933519) AS vol_at_91;

-- The sweep, one query: the flat rule, a tiers schedule (bracket 2 from a notional of 50:
-- 5%, amount 2: #1 liquidates at 91, MM 2.55 >= 1), and the volatility multiplier 0, 0.1,
-- 1, 2; how many liquidations each, the first, and the total shortfall.  x 0 is the flat
-- rule; x 1 takes #1 at 95 (add-on 0.05: MM 95 * 0.06 = 5.7 >= 5) and #2 at 89 (add-on
-- 0.036191: MM 89 * 0.046191 = 4.11 >= 4); x 2 takes #1 and #2 at 95 (add-on 0.1: MM
-- 95 * 0.11 = 10.45 >= 10); #3 goes bankrupt at 112 under every rule (shortfall 2.84).
SELECT r ->> 'name' AS rule, count(b.position_key) AS liquidated,
       min(b.liquidated_at) AS first_at, coalesce(sum(b.shortfall), 0) AS shortfall
  FROM (SELECT '{"name": "flat 1%", "mmr": 0.01}'::jsonb
        UNION ALL SELECT '{"name": "tiers", "tiers": "{0..50 mmr=0.01 max_leverage=20; 50..1000 mmr=0.05 max_leverage=10}"}'
        UNION ALL SELECT jsonb_build_object('name', 'vol x ' || k, 'mmr', 0.01,
                                            'volatility', jsonb_build_object('half_life', 1, 'floor', 0,
                                                                             'cap', 1, 'multiplier', k))
            FROM unnest('{0, 0.1, 1, 2}'::numeric[]) AS k) AS rules(r)
  LEFT JOIN LATERAL isomargin.backtest('bt.positions', 'bt.instruments', 'bt.path', 'bt.book', r) b ON true
 GROUP BY 1 ORDER BY 1;

\set ECHO none
\i test/lib/try.sql
\set ECHO all
SELECT pg_temp.try($$SELECT count(*) FROM isomargin.backtest('bt.positions', 'bt.instruments', 'bt.path', NULL, '{"mmr": 0.01, "liquidity": true}')$$);
SELECT pg_temp.try($$SELECT count(*) FROM isomargin.backtest('bt.positions', 'bt.instruments', 'bt.path', NULL, '{"mmr": 0.01, "tiers": "{}"}')$$);
SELECT pg_temp.try($$SELECT count(*) FROM isomargin.backtest('bt.positions', 'bt.instruments', 'bt.path', NULL, '{"mmr": 0.01, "volatility": {"half_life": 0, "floor": 0, "cap": 1, "multiplier": 1}}')$$);
DROP SCHEMA bt CASCADE;
