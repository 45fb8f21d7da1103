-- Edge cases and the decisions taken for them (doc/formulas.md "Edge cases").

-- A zero size is a closed position: no prices, ratio 0, status ok, whatever the margin.
SELECT * FROM isomargin.assess(size => 0, entry_price => 30000, mark_price => 20000, margin => 0,
                               mmr => 0.004, leverage => 10);
SELECT isomargin.liquidation_price(0, 30000, 100, 0.004) AS lp,
       isomargin.margin_call_price(0, 30000, 100, 0.004) AS mcp,
       isomargin.bankruptcy_price(0, 30000, 100) AS bp;

-- A long so over-collateralized that no positive price liquidates it: NULL.
-- At the boundary M = q*E the bankruptcy price is exactly 0, also NULL.
SELECT m, isomargin.liquidation_price(1, 100, m, 0.01) AS lp,
       isomargin.bankruptcy_price(1, 100, m) AS bp,
       isomargin.margin_status(1, 100, 0.00000001, m, 0.01) AS status_near_zero
FROM (VALUES (98.99), (99), (99.01), (100), (150)) v(m) ORDER BY m;

-- An inverse short with M >= |q|*cs/E can never lose it all: no bankruptcy
-- price; with M + 0 >= notional at entry... its liquidation price is NULL too.
SELECT m, isomargin.liquidation_price(-100, 40000, m, 0.005, 100, 'inverse') AS lp,
          isomargin.bankruptcy_price(-100, 40000, m, 100, 'inverse') AS bp
FROM (VALUES (0.2499), (0.25), (0.3)) v(m) ORDER BY m;

-- Shorts on a linear contract always have both prices.
SELECT isomargin.liquidation_price(-1, 100, 1000, 0.01) AS lp, isomargin.bankruptcy_price(-1, 100, 1000) AS bp;

-- Tick rounding: long up, short down, exact multiples unchanged; the result
-- has the tick's scale.
SELECT tick,
       isomargin.liquidation_price(1, 30000, 3000, 0.004, tick_size => tick) AS long_lp,
       isomargin.liquidation_price(-2, 30000, 6000, 0.004, tick_size => tick) AS short_lp,
       isomargin.bankruptcy_price(1, 30000, 3000, tick_size => tick) AS long_bp
FROM (VALUES (0), (0.01), (0.5), (1), (10), (7)) v(tick) ORDER BY tick;

-- margin_call_ratio = 1: the margin-call price is the liquidation price.
SELECT isomargin.margin_call_price(1, 30000, 3000, 0.004, margin_call_ratio => 1) =
       isomargin.liquidation_price(1, 30000, 3000, 0.004) AS same;
-- A call ratio at or below mmr + fee_rate is refused: the margin ratio would
-- stand above it at every price (22023).
SELECT isomargin.margin_call_price(1, 30000, 3000, 0.5, margin_call_ratio => 0.5) AS mcp;

-- Prices of many decimals: the liquidation price keeps the entry price's
-- scale when it has more than 8 decimals.
SELECT isomargin.liquidation_price(1000000000, 0.000012345678901, 1000, 0.01) AS lp,
       isomargin.bankruptcy_price(1000000000, 0.000012345678901, 1000) AS bp,
       isomargin.liquidation_price(-1000000000, 0.000012345678901, 1000, 0.01) AS short_lp;

-- Very large sizes and values beyond the 128-bit fast path give the exact
-- numeric answer (the fallback route).
SELECT isomargin.notional(1e30, 123456789.123456789) AS notional,
       isomargin.unrealized_pnl(-1e30, 100.5, 100.25) AS pnl,
       isomargin.liquidation_price(1e30, 30000, 3e33, 0.004) AS lp,
       isomargin.liquidation_price(1e40, 30000, 3e43, 0.004) AS lp_huge,
       isomargin.liquidation_price(1, 30000, 3000, 0.004) AS lp_small;
SELECT isomargin.equity(12345678901234567890123, 98765.4321, 98765.4322, 1) AS equity,
       isomargin.margin_status(12345678901234567890123, 98765.4321, 90000, 1e27, 0.01) AS status;

-- Zero margin: bankrupt at the entry price itself, and the bankruptcy price is the entry.
SELECT isomargin.margin_status(1, 100, 100, 0, 0.01) AS status,
       isomargin.bankruptcy_price(1, 100, 0) AS bp,
       isomargin.margin_ratio(1, 100, 100, 0, 0.01) AS ratio;

-- Margin ratio is NULL once equity is gone; status says bankrupt.
SELECT isomargin.margin_ratio(1, 30000, 26999, 3000, 0.004) AS ratio,
       isomargin.margin_status(1, 30000, 26999, 3000, 0.004) AS status;

-- Named and positional calls agree; defaults are linear, contract_size 1, no fee, no tick.
SELECT isomargin.liquidation_price(1, 30000, 3000, 0.004) =
       isomargin.liquidation_price(mmr => 0.004, margin => 3000, entry_price => 30000, size => 1,
                                   kind => 'linear', contract_size => 1, fee_rate => 0, tick_size => 0) AS same;

-- Values read from a table (short varlena headers) equal values from constants.
CREATE TEMP TABLE pos AS SELECT 1::numeric AS q, 30000::numeric AS e, 3000::numeric AS m;
SELECT isomargin.liquidation_price(q, e, m, 0.004) FROM pos;
