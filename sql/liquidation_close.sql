-- The liquidation engine's close (issue 16 items 1 and 3): close_part and
-- liquidation_settlement against hand-computed examples (doc/liquidation.md).
\set SHOW_CONTEXT never

-- Linear long q = 2 at 30,000, M = 3,000, close 1 at 31,000, fee 0.0005, mmr 0.004:
-- released 3,000*1/2 = 1,500; PnL 1*(31,000 - 30,000) = 1,000; fee 0.0005*31,000 = 15.5;
-- cash 1,500 + 1,000 - 15.5 = 2,484.5; the rest 1 at 30,000 with 1,500:
-- LP (30,000 - 1,500)/(1 - 0.0045) = 28,628.8297338021... up -> 28628.82973381; BP 28,500.
SELECT * FROM isomargin.close_part(2, 30000, 3000, 1, 31000, 0.004, fee_rate => 0.0005);
-- The whole of it: size 0, no prices; PnL 2,000, fee 31, cash 3,000 + 2,000 - 31 = 4,969.
SELECT * FROM isomargin.close_part(2, 30000, 3000, 2, 31000, 0.004, fee_rate => 0.0005);
-- Short q = -2 at 30,000, M = 6,000, buy back 1 at 31,000: released 3,000, PnL -1,000, cash 2,000;
-- rest -1 with 3,000: LP (-30,000 - 3,000)/(-1 - 0.004) = 32,868.5258964143... down -> 32868.52589641;
-- BP 30,000 + 3,000 = 33,000.
SELECT * FROM isomargin.close_part(-2, 30000, 6000, 1, 31000, 0.004);
-- Inverse long 100 contracts of 100 USD at 40,000, M = 0.05 BTC, close 40 at 38,000, fee 0.0005:
-- released 0.02; PnL 4,000*(38,000 - 40,000)/(40,000*38,000) = -0.00526315789473684... down;
-- fee 0.0005*4,000/38,000 = 0.0000526315789473684... up; rest 60 with 0.03:
-- LP (6,000 + 6,000*0.0055)/(0.03 + 6,000/40,000) = 6,033/0.18 = 33,516.666... up -> 33516.66666667;
-- BP 6,000/0.18 = 33,333.333... up -> 33333.33333334.
SELECT * FROM isomargin.close_part(100, 40000, 0.05, 40, 38000, 0.005, 100, 'inverse', 0.0005);
-- Tiers (T2's schedule): q = 10 at 20,000, M = 105,000, close 5 at 9,600: released 52,500,
-- PnL 5*(9,600 - 20,000) = -52,000, cash 500; rest 5 with 52,500: LP in bracket 2
-- (5*20,000 - 52,500 - 50)/(5 - 5*0.01) = 47,450/4.95 = 9,585.8585... up -> 9585.85858586
-- (N = 47,929, bracket 2 indeed); BP 20,000 - 52,500/5 = 9,500.
SELECT * FROM isomargin.close_part(10, 20000, 105000, 5, 9600,
    '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10; 2000000..10000000 mmr=0.1 max_leverage=5}'::isomargin.tiers);
-- A loss beyond the released margin: q = 3 at 30,000, M = 900, sell 1 at 29,000: released 300,
-- PnL -1,000, cash -700; the remaining 600 covers 600 of it: margin 0, cash -100.
SELECT size, margin, cash FROM isomargin.close_part(3, 30000, 900, 1, 29000, 0.004);
-- Nothing closed: unchanged.
SELECT size, margin, cash, liquidation_price FROM isomargin.close_part(1, 30000, 3000, 0, 31000, 0.004);
-- Bad close sizes (22023), nothing else.
SELECT * FROM isomargin.close_part(2, 30000, 3000, 3, 31000, 0.004);
SELECT * FROM isomargin.close_part(-2, 30000, 3000, -1, 31000, 0.004);
SELECT * FROM isomargin.liquidation_settlement(2, 30000, 3000, 2.5, 31000);

-- Settlement at the bankruptcy price.
-- A (q = 1 at 30,000, M = 3,000, BP 27,000) closed whole at 27,100: released 3,000, PnL -2,900:
-- the closed part's equity at the fill, 100, goes to the fund; the trader gets nothing; of it,
-- the fee due, 0.005*27,100 = 135.5, is booked as far as it goes: 100.
SELECT * FROM isomargin.liquidation_settlement(1, 30000, 3000, 1, 27100, liquidation_fee_rate => 0.005);
-- Half of q = 2 at 30,000, M = 3,000 (BP 28,500) at 29,000 with a 0.1% fee: released 1,500,
-- PnL -1,000, to the fund 500, of which the fee 0.001*29,000 = 29; the rest keeps its 1,500.
SELECT * FROM isomargin.liquidation_settlement(2, 30000, 3000, 1, 29000, liquidation_fee_rate => 0.001);
-- Past bankruptcy: A at 26,500: released 3,000, PnL -3,500, the fund pays 500; no fee.
SELECT to_fund, liquidation_fee, margin FROM isomargin.liquidation_settlement(1, 30000, 3000, 1, 26500, liquidation_fee_rate => 0.005);
-- A short: q = -2 at 30,000, M = 6,000 (BP 33,000), close 2 at 32,900: PnL -2*2,900 = -5,800,
-- to the fund 6,000 - 5,800 = 200.
SELECT bankruptcy_price, to_fund FROM isomargin.liquidation_settlement(-2, 30000, 6000, 2, 32900);
-- Inverse C whole at 33,400 (BP 33,333.33...): PnL 10,000*(33,400 - 40,000)/(40,000*33,400)
-- = -0.0494011976047904191... down -> -0.0494011976047905; to the fund 0.05 - that = 0.0005988023952095.
SELECT bankruptcy_price, released_margin, realized_pnl, to_fund
  FROM isomargin.liquidation_settlement(100, 40000, 0.05, 100, 33400, 100, 'inverse');
-- The fee never touches the rest: q = 2, M = 3,000, close 1 at 28,600 with a 10% fee:
-- 2,860 due, the closed part's equity is 100: fee 100, the rest keeps 1,500.
SELECT liquidation_fee, margin FROM isomargin.liquidation_settlement(2, 30000, 3000, 1, 28600, liquidation_fee_rate => 0.1);
