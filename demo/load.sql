-- demo/load.sql: one chunk of the book, positions :lo .. :hi, in one set-based INSERT
-- (enforcement's triggers compute every stored price and status as rows go in).
-- psql variables: seed, lo, hi, total (positions in the whole book), whales (how many
-- whale positions the whole book holds, on average).
--
-- Each position draws, from its id and the seed:
--   instrument  by the instruments' shares of the book; 55% long
--   leverage    from the values traders pick (1x 4%, 2x 5%, 3x 6%, 5x 12%, 10x 18%, 15x 8%,
--               20x 15%, 25x 10%, 50x 11%, 75x 5%, 100x 4%, 125x 2%), capped at the maximum
--               of its bracket; whales pick 2x to 20x
--   notional    log-normal, median 1,500 USD, clipped to 10 .. 3,000,000; whales 3M .. 45M,
--               which puts them in the high brackets
--   entry       around the current mark, the spread shrinking with leverage (recent,
--               short-lived high-leverage trades): sd 0.3/leverage + 0.2%, at most 12%; an
--               entry that would leave the position near its margin call at the current
--               mark is mirrored to the winning side (such positions were liquidated long ago)
--   margin      the initial margin at entry (notional / leverage, rounded up to the cent or
--               the satoshi), topped up by 0-100% on a quarter of the positions
\set ON_ERROR_STOP on

INSERT INTO exchange.positions (id, account_id, symbol, size, entry_price, margin, leverage)
WITH draws AS (
    SELECT g AS id,
           demo.u(:seed, g, 1) AS u_symbol,
           demo.u(:seed, g, 2) AS u_side,
           demo.u(:seed, g, 3) AS u_leverage,
           demo.z(:seed, g, 4) AS z_notional,
           demo.z(:seed, g, 6) AS z_entry,
           demo.u(:seed, g, 8) AS u_topup,
           demo.u(:seed, g, 9) AS u_whale,
           demo.u(:seed, g, 10) AS u_account,
           demo.u(:seed, g, 11) AS u_whale_notional
      FROM generate_series(:lo::bigint, :hi::bigint) g
), shares AS (
    SELECT i.*, m.mark_price AS p0,
           coalesce(sum(i.share) OVER (ORDER BY i.symbol ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
               / sum(i.share) OVER () AS share_lo,
           sum(i.share) OVER (ORDER BY i.symbol) / sum(i.share) OVER () AS share_hi
      FROM exchange.instruments i JOIN exchange.marks m USING (symbol)
), picked AS (
    SELECT d.*, s.symbol, s.kind, s.contract_size, s.tick_size, s.lot_size, s.p0,
           d.u_whale < :whales::float8 / :total AS whale,
           CASE WHEN d.u_side < 0.55 THEN 1 ELSE -1 END AS side
      FROM draws d
      JOIN shares s ON d.u_symbol >= s.share_lo AND d.u_symbol < s.share_hi
), wanted AS (
    SELECT p.*,
           CASE WHEN p.whale
                THEN (ARRAY[2, 3, 5, 5, 10, 10, 20])[1 + floor(p.u_leverage * 7)::int]
                ELSE (ARRAY[1, 2, 3, 5, 10, 15, 20, 25, 50, 75, 100, 125])[
                        width_bucket(p.u_leverage, ARRAY[0, .04, .09, .15, .27, .45, .53, .68, .78,
                                                         .89, .94, .98]::float8[])]
           END AS leverage_wanted,
           CASE WHEN p.whale
                THEN 3e6 * exp(p.u_whale_notional * ln(15))
                ELSE least(greatest(1500 * exp(1.5 * p.z_notional), 10), 3e6)
           END AS usd
      FROM picked p
), sized AS (
    SELECT w.*,
           CASE WHEN w.kind = 'inverse'
                THEN greatest(round(w.usd / w.contract_size::float8), 1)::numeric
                ELSE greatest(round(w.usd / w.p0::float8 / w.contract_size::float8
                                    / w.lot_size::float8)::numeric, 1) * w.lot_size
           END AS abs_size
      FROM wanted w
), capped AS (
    SELECT s.*, b.mmr + s.fee_rate AS rate, least(s.leverage_wanted, b.max_leverage) AS leverage
      FROM (SELECT z.*, i.fee_rate,
                   CASE WHEN z.kind = 'inverse' THEN z.abs_size * z.contract_size / z.p0
                        ELSE z.abs_size * z.contract_size * z.p0 END AS notional0
              FROM sized z JOIN exchange.instruments i USING (symbol)) s
      CROSS JOIN LATERAL (
            -- the bracket of the notional at the current mark (the last one beyond its cap)
            SELECT b.mmr, b.max_leverage FROM exchange.brackets b
             WHERE b.symbol = s.symbol AND (b.notional_floor < s.notional0 OR b.bracket = 1)
             ORDER BY b.bracket DESC LIMIT 1) b
), entered AS (
    -- the entry if the draw stands, and its mirror on the winning side
    SELECT c.*,
           least(0.3 / c.leverage + 0.002, 0.12) * c.z_entry AS dev
      FROM capped c
), safe AS (
    SELECT e.*,
           CASE WHEN
               -- margin ratio at the current mark, flat rate of the bracket, above 0.6:
               -- maintenance * 1 >= 0.6 * equity, with the initial margin as collateral
               CASE WHEN e.kind = 'inverse'
                    THEN (e.abs_size * e.contract_size / e.p0::float8) * e.rate::float8
                         >= 0.6 * ((e.abs_size * e.contract_size / (e.p0::float8 * exp(e.dev))) / e.leverage
                                   + e.side * e.abs_size * e.contract_size
                                     * (1 / (e.p0::float8 * exp(e.dev)) - 1 / e.p0::float8))
                    ELSE (e.abs_size * e.contract_size * e.p0)::float8 * e.rate::float8
                         >= 0.6 * ((e.abs_size * e.contract_size)::float8 * e.p0::float8 * exp(e.dev) / e.leverage
                                   + e.side * (e.abs_size * e.contract_size)::float8
                                     * (e.p0::float8 - e.p0::float8 * exp(e.dev)))
               END
               THEN -e.dev ELSE e.dev END AS dev_final
      FROM entered e
), priced AS (
    SELECT s.*,
           greatest(round((s.p0::float8 * exp(s.dev_final) / s.tick_size::float8)::numeric), 1)
               * s.tick_size AS entry_price
      FROM safe s
)
SELECT p.id,
       1 + floor(p.u_account * greatest(:total / 4, 1))::int,
       p.symbol,
       p.side * p.abs_size,
       p.entry_price,
       trunc(p.initial_margin * (CASE WHEN p.u_topup < 0.25 THEN 1 + p.u_topup * 4 ELSE 1 END)::numeric,
             p.decimals),
       p.leverage
  FROM (SELECT q.*,
               CASE WHEN q.kind = 'inverse' THEN 8 ELSE 2 END AS decimals,
               CASE WHEN q.kind = 'inverse'
                    THEN ceil(q.abs_size * q.contract_size / (q.entry_price * q.leverage) * 1e8) / 1e8
                    ELSE ceil(q.abs_size * q.contract_size * q.entry_price / q.leverage * 100) / 100
               END AS initial_margin
          FROM priced q) p;
