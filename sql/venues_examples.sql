-- The venues' own printed examples (issue 14 item 5), each reproduced to the
-- digit with the convention the venue uses.  Every example here assumes no
-- fee to close (fee_rate 0), as the venue's page does.
SET extra_float_digits = 0;

-- Bybit Help Center, "How to Calculate Liquidation Price (USDT Contract)"
-- (classic USDT perpetual, isolated margin): maintenance margin fixed on the
-- entry value, MM = qty * entry * MMR, and
-- LP(long) = entry - (initial margin - MM) / qty.
-- Long 1 BTC at 20,000 with 50x (initial margin 400) and MMR 0.5%: 19,700.
SELECT isomargin.initial_margin(1, 20000, 50) AS im;
SELECT isomargin.liquidation_price(size => 1, entry_price => 20000, margin => 400, mmr => 0.005,
                                   mm_basis => 'entry') AS bybit_19700;
-- the mark basis (the default) on the same position: maintenance falls with the price
SELECT isomargin.liquidation_price(size => 1, entry_price => 20000, margin => 400, mmr => 0.005) AS mark_basis;
-- Long at 10,000 with 50x (margin 200), MMR 0.5%: 10,000 - (200 - 50) = 9,850.
SELECT isomargin.liquidation_price(size => 1, entry_price => 10000, margin => 200, mmr => 0.005,
                                   mm_basis => 'entry') AS bybit_9850;
-- Short at 8,000 with 40x (margin 200), MMR 0.5%: 8,000 + (200 - 40) = 8,160.
SELECT isomargin.liquidation_price(size => -1, entry_price => 8000, margin => 200, mmr => 0.005,
                                   mm_basis => 'entry') AS bybit_8160;
-- Bybit Help Center, "What is Bankruptcy Price? (USDT Contract)": long at
-- 10,000 with 50x: 10,000 - 200 = 9,800 (no convention changes it).
SELECT isomargin.bankruptcy_price(size => 1, entry_price => 10000, margin => 200) AS bybit_9800;
-- At those prices the entry basis's check says liquidate, and a cent above, not.
SELECT isomargin.margin_status(1, 20000, 19700, 400, 0.005, mm_basis => 'entry') AS at_19700,
       isomargin.margin_status(1, 20000, 19700.01, 400, 0.005, mm_basis => 'entry') AS above,
       (isomargin.assess(1, 20000, 19700, 400, 0.005, mm_basis => 'entry')).maintenance_margin AS mm_on_entry_is_100;
SELECT isomargin.margin_status(-1, 8000, 8160, 200, 0.005, mm_basis => 'entry') AS at_8160,
       isomargin.margin_status(-1, 8000, 8159.99, 200, 0.005, mm_basis => 'entry') AS below;

-- Bybit Help Center, "How to Calculate Liquidation Price (Inverse Contract)",
-- isolated: LP(long) = entry / (1 + IMR - MMR) with the maintenance margin on
-- the entry value.  Long 8,000 USD of BTCUSD at 8,000 with 50x (margin
-- 0.02 BTC), MMR 0.5%: 8,000 / 1.015 = 7,881.77339901... (up for a long).
SELECT isomargin.liquidation_price(size => 8000, entry_price => 8000, margin => 0.02, mmr => 0.005,
                                   kind => 'inverse', mm_basis => 'entry') AS bybit_inverse_long;
-- Short: entry / (1 - IMR + MMR) = 8,000 / 0.985 = 8,121.82741116... (down for a short)
SELECT isomargin.liquidation_price(size => -8000, entry_price => 8000, margin => 0.02, mmr => 0.005,
                                   kind => 'inverse', mm_basis => 'entry') AS bybit_inverse_short;

-- Binance, "Leverage and Margin of USDⓈ-M Futures" (the maintenance amount,
-- "cum", of a bracket): BTCUSDT level 3, 250,000 < notional <= 1,000,000 at
-- 1%, after 0.4% and 0.5%: 250,000 * (1% - 0.5%) + 50 = 1,300.
SELECT isomargin.tiers_to_jsonb('{0..50000 mmr=0.004 max_leverage=125; 50000..250000 mmr=0.005 max_leverage=100;
                                  250000..1000000 mmr=0.01 max_leverage=50}') -> 2 -> 'maintenanceAmount' AS level3_amount;
-- The same amount given by the venue is accepted as consistent ...
SELECT '{0..50000 mmr=0.004 amount=0 max_leverage=125; 50000..250000 mmr=0.005 amount=50 max_leverage=100;
         250000..1000000 mmr=0.01 amount=1300 max_leverage=50}'::isomargin.tiers;
-- ... and the maintenance margin of a 300,000 notional in level 3 is 300,000 * 1% - 1,300.
SELECT isomargin.maintenance_margin(10, 30000, '{0..50000 mmr=0.004 max_leverage=125;
         50000..250000 mmr=0.005 max_leverage=100; 250000..1000000 mmr=0.01 max_leverage=50}'::isomargin.tiers) AS mm_level3;
-- A flat rate with the bracket's amount beside it, as calculators take them: the same.
SELECT isomargin.maintenance_margin(10, 30000, 0.01, maintenance_amount => 1300) AS mm_flat_with_amount;
