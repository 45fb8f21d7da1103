-- test/lib/book.sql: a small book under enforcement, for the TAP tests (test/t/*.pl).
-- psql variables: positions (how many to open), seed.
--
--   instruments   three linear perpetuals and one inverse (100 USD contracts), each with a
--                 bracket schedule (tiers), a fee, a price tick, a size lot and ref_price,
--                 the price its marks stay within 10% of (test/pgbench/mark.sql)
--   marks         one row per symbol, updated in place; ticks counts the updates
--   positions     ids 1 .. :positions, from book_position(); half of them exist when
--                 enforce() attaches (its recompute checks them), the rest go in through
--                 the trigger.  Later ids come from the sequence position_ids.
--
-- Every figure is numeric, drawn from integer hashes of (id, seed): the same book whatever
-- the plan or the order rows go in.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE TABLE instruments (
    symbol        text PRIMARY KEY,
    kind          isomargin.contract_kind NOT NULL,
    contract_size numeric NOT NULL,
    tiers         isomargin.tiers NOT NULL,
    fee_rate      numeric NOT NULL,
    tick          numeric NOT NULL,
    lot           numeric NOT NULL,
    ref_price     numeric NOT NULL
);
CREATE TABLE marks (
    symbol     text PRIMARY KEY,
    mark_price numeric NOT NULL,
    ticks      bigint NOT NULL DEFAULT 0
);
CREATE TABLE positions (
    id          bigint PRIMARY KEY,
    symbol      text NOT NULL,
    size        numeric NOT NULL,
    entry_price numeric NOT NULL,
    margin      numeric NOT NULL
);
CREATE SEQUENCE position_ids;

INSERT INTO instruments VALUES
    ('BTCUSDT', 'linear', 1, '{0..50000 mmr=0.004 max_leverage=125; 50000..600000 mmr=0.005 max_leverage=100;
                               600000..3000000 mmr=0.0065 max_leverage=75}', 0.0005, 0.1, 0.001, 64250.5),
    ('ETHUSDT', 'linear', 1, '{0..50000 mmr=0.005 max_leverage=100; 50000..500000 mmr=0.0065 max_leverage=75}',
     0.0005, 0.01, 0.01, 3150.25),
    ('SOLUSDT', 'linear', 1, '{0..10000 mmr=0.01 max_leverage=50; 10000..100000 mmr=0.02 max_leverage=25}',
     0.0005, 0.01, 0.1, 142.35),
    ('BTCUSD', 'inverse', 100, '{0..5 mmr=0.004 max_leverage=125; 5..10 mmr=0.005 max_leverage=100;
                                 10..20 mmr=0.01 max_leverage=50}', 0.0005, 0.1, 1, 64230.5);
INSERT INTO marks (symbol, mark_price) SELECT symbol, ref_price FROM instruments;

-- Draw k of position id: an integer in [0, 2^20).
CREATE FUNCTION book_draw(id bigint, k integer, seed bigint) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT
RETURN (pg_catalog.hashint8extended(id * 16 + k, seed) & 1048575)::integer;

-- Position pos_id as a trader opens it at the current mark: an instrument (round robin by
-- draw), 55% long, a leverage of 2x to 50x (at most the bracket's), a notional of 20 to
-- 80,000 USD (log-uniform, so the larger ones reach the second bracket), an entry within
-- 0.3/leverage of the mark (up to 30% of the initial margin already won or lost) on the
-- tick, and the initial margin rounded up to the cent (linear) or the satoshi (inverse),
-- topped up by 0-99% for a quarter of them.
CREATE FUNCTION book_position(pos_id bigint, seed bigint)
RETURNS TABLE (id bigint, symbol text, size numeric, entry_price numeric, margin numeric)
LANGUAGE sql STABLE STRICT
BEGIN ATOMIC
WITH d AS (
    SELECT book_draw(pos_id, 1, seed) AS d1, book_draw(pos_id, 2, seed) AS d2, book_draw(pos_id, 3, seed) AS d3,
           book_draw(pos_id, 4, seed) AS d4, book_draw(pos_id, 5, seed) AS d5, book_draw(pos_id, 6, seed) AS d6
), pick AS (
    SELECT d.*, i.*, m.mark_price,
           CASE WHEN d.d2 % 100 < 55 THEN 1 ELSE -1 END AS side,
           (20 * (1 << (d.d4 % 12)) * (100 + d.d4 / 16 % 100) / 100)::numeric AS usd
      FROM d, instruments i JOIN marks m USING (symbol)
     WHERE i.symbol = (SELECT (array_agg(symbol ORDER BY symbol))[1 + d.d1 % count(*)::integer] FROM instruments)
), sized AS (
    SELECT p.*,
           CASE WHEN p.kind = 'inverse' THEN greatest(round(p.usd / p.contract_size), 1)
                ELSE greatest(round(p.usd / p.mark_price / p.lot), 1) * p.lot END AS abs_size
      FROM pick p
), levered AS (
    SELECT s.*,
           least((ARRAY[2, 3, 5, 10, 20, 25, 50])[1 + s.d3 % 7],
                 isomargin.max_leverage(s.tiers, isomargin.notional(s.abs_size, s.mark_price, s.contract_size,
                                                                    s.kind))) AS leverage
      FROM sized s
), entered AS (
    SELECT l.*,
           greatest(round(l.mark_price * (1 + (l.d5 % 2001 - 1000) * 0.0003 / l.leverage) / l.tick), 1)
               * l.tick AS entry
      FROM levered l
), margined AS (
    SELECT e.*,
           CASE WHEN e.kind = 'inverse'
                THEN e.abs_size * e.contract_size / (e.entry * e.leverage)
                ELSE e.abs_size * e.contract_size * e.entry / e.leverage END
               * CASE WHEN e.d6 % 4 = 0 THEN 1 + e.d6 / 4 % 100 * 0.01 ELSE 1 END AS wanted_margin
      FROM entered e
)
SELECT pos_id, m.symbol, m.side * m.abs_size, m.entry,
       CASE WHEN m.kind = 'inverse' THEN ceil(m.wanted_margin * 100000000) * 0.00000001
            ELSE ceil(m.wanted_margin * 100) * 0.01 END
  FROM margined m;
END;

INSERT INTO positions (id, symbol, size, entry_price, margin)
SELECT b.* FROM generate_series(1, :positions / 2) g, book_position(g, :seed) b;
SELECT isomargin.enforce('positions', 'marks', 'instruments') IS NOT NULL AS enforced \gset
INSERT INTO positions (id, symbol, size, entry_price, margin)
SELECT b.* FROM generate_series(:positions / 2 + 1, :positions) g, book_position(g, :seed) b;
SELECT pg_catalog.setval('position_ids', :positions);
