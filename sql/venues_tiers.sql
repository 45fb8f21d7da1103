-- Schedules as venues publish them (issue 14 items 1 and 4): amounts as
-- given or none, explicit in the value, and each venue's tier JSON as its
-- API returns it.
\set ECHO none
\i test/lib/try.sql
\set ECHO all

-- Item 1: amounts=given keeps the venue's amounts (0 <= A_i <= F_i * r_i),
-- amounts=none is step tiers (A_i = 0); the text form says which, and a
-- schedule of derived amounts reads and prints as before.
SELECT '{amounts=given; 0..10000 mmr=0.005 amount=0 max_leverage=100; 10000..100000 mmr=0.01 amount=40 max_leverage=50}'::isomargin.tiers AS given;
SELECT '{ AMOUNTS = none ; 0..10 mmr=0.01 max_leverage=50; 10..20 mmr=0.02 max_leverage=20}'::isomargin.tiers AS step;
SELECT '{amounts=derived; 0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50}'::isomargin.tiers AS derived;
-- the same brackets (and amounts 0 and 50), three values: no two are equal
SELECT a.id, b.id, a.t OPERATOR(isomargin.=) b.t AS equal FROM (VALUES
  (1, '{amounts=given; 0..10000 mmr=0.005 amount=0 max_leverage=100; 10000..100000 mmr=0.01 amount=50 max_leverage=50}'::isomargin.tiers),
  (2, '{amounts=none; 0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50}'),
  (3, '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50}')) AS a(id, t)
  JOIN (VALUES
  (1, '{amounts=given; 0..10000 mmr=0.005 amount=0 max_leverage=100; 10000..100000 mmr=0.01 amount=50 max_leverage=50}'::isomargin.tiers),
  (2, '{amounts=none; 0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50}'),
  (3, '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50}')) AS b(id, t) ON a.id < b.id
 ORDER BY 1, 2;
-- what each still checks
SELECT pg_temp.try($$SELECT '{amounts=given; 0..10000 mmr=0.005 amount=0 max_leverage=100; 10000..100000 mmr=0.01 amount=101 max_leverage=50}'::isomargin.tiers$$);
SELECT pg_temp.try($$SELECT '{amounts=given; 0..10000 mmr=0.005 amount=1 max_leverage=100}'::isomargin.tiers$$);
SELECT pg_temp.try($$SELECT '{amounts=given; 0..10000 mmr=0.005 max_leverage=100}'::isomargin.tiers$$);
SELECT pg_temp.try($$SELECT '{amounts=none; 0..10000 mmr=0.005 amount=0 max_leverage=100}'::isomargin.tiers$$);
SELECT pg_temp.try($$SELECT '{amounts=some; 0..10000 mmr=0.005 max_leverage=100}'::isomargin.tiers$$);
SELECT pg_temp.try($$SELECT '{amounts=none 0..10000 mmr=0.005 max_leverage=100}'::isomargin.tiers$$);
SELECT pg_temp.try($$SELECT '{amounts=none; 0..10000 mmr=0.02 max_leverage=100}'::isomargin.tiers$$);
SELECT pg_temp.try($$SELECT '{amounts=none; 0..10000 mmr=0.02 max_leverage=10; 10000..20000 mmr=0.01 max_leverage=5}'::isomargin.tiers$$);
-- binary: a derived schedule is sent as version 1, as before; the others as
-- version 2 with the amounts byte (1 given, 2 none); both read back equal.
SELECT substr(isomargin.tiers_send('{0..10 mmr=0.01 max_leverage=50}'), 1, 3) AS v1,
       substr(isomargin.tiers_send('{amounts=given; 0..10 mmr=0.01 amount=0 max_leverage=50}'), 1, 4) AS v2_given,
       substr(isomargin.tiers_send('{amounts=none; 0..10 mmr=0.01 max_leverage=50}'), 1, 4) AS v2_none;
CREATE TEMP TABLE modes (id int, t isomargin.tiers);
INSERT INTO modes VALUES
  (1, '{amounts=given; 0..10000 mmr=0.005 amount=0 max_leverage=100; 10000..100000 mmr=0.01 amount=40 max_leverage=50}'),
  (2, '{amounts=none; 0..10 mmr=0.01 max_leverage=50; 10..20 mmr=0.02 max_leverage=20}'),
  (3, '{0..10 mmr=0.01 max_leverage=50; 10..20 mmr=0.02 max_leverage=20}');
SELECT current_setting('data_directory') || '/isomargin_venues_tiers.copy' AS copyfile \gset
COPY modes TO :'copyfile' WITH (FORMAT binary);
CREATE TEMP TABLE modes_back (LIKE modes);
COPY modes_back FROM :'copyfile' WITH (FORMAT binary);
SELECT id, m.t OPERATOR(isomargin.=) b.t AS equal, b.t FROM modes m JOIN modes_back b USING (id) ORDER BY id;
-- jsonb: the client format, wrapped with "amounts" when not derived; read back equal
SELECT id, isomargin.tiers_to_jsonb(t) AS j,
       isomargin.tiers(isomargin.tiers_to_jsonb(t)) OPERATOR(isomargin.=) t AS round_trip
  FROM modes ORDER BY id;

-- Item 4: each venue's JSON as its API returns it.
-- The largest exchange, USDⓈ-M (GET /fapi/v1/leverageBracket): the last cap
-- is 9223372036854775807 (2^63 - 1, "no cap"), read as 999999999999999999.
SELECT isomargin.tiers('[{"symbol": "XUSDT", "brackets": [
  {"bracket": 1, "initialLeverage": 20, "notionalCap": 5000, "notionalFloor": 0, "maintMarginRatio": 0.025, "cum": 0.0},
  {"bracket": 2, "initialLeverage": 1, "notionalCap": 9223372036854775807, "notionalFloor": 5000, "maintMarginRatio": 0.5, "cum": 2375.0}]}]'::jsonb) AS usdm;
-- COIN-M (GET /dapi/v1/leverageBracket): brackets by quantity in coin
-- (qtyFloor, qtyCap: the coin notional of an inverse contract).
SELECT isomargin.tiers('[{"pair": "BTCUSD", "brackets": [
  {"bracket": 1, "initialLeverage": 125, "qtyCap": 5, "qtyFloor": 0, "maintMarginRatio": 0.004, "cum": 0.0},
  {"bracket": 2, "initialLeverage": 100, "qtyCap": 10, "qtyFloor": 5, "maintMarginRatio": 0.005, "cum": 0.005},
  {"bracket": 3, "initialLeverage": 50, "qtyCap": "9223372036854775807", "qtyFloor": 10, "maintMarginRatio": 0.01, "cum": 0.055}]}]'::jsonb) AS coinm;
-- "no cap" anywhere but the last bracket is refused
SELECT pg_temp.try($$SELECT isomargin.tiers('[{"notionalFloor": 5000, "notionalCap": 10000, "maintMarginRatio": 0.02, "initialLeverage": 20},
  {"notionalFloor": 0, "notionalCap": 9223372036854775807, "maintMarginRatio": 0.01, "initialLeverage": 50}]'::jsonb)$$);
-- OKX (GET /api/v5/public/position-tiers): contracts, integer bounds with a
-- gap of one unit (500 then 501: read as contiguous), strings, step tiers:
-- amounts=none, for tier_basis => 'contracts'.
SELECT isomargin.tiers('{"code": "0", "msg": "", "data": [
  {"baseMaxLoan": "", "imr": "0.01", "instFamily": "BTC-USDT", "instId": "", "maxLever": "100", "maxSz": "500", "minSz": "0", "mmr": "0.004", "optMgnFactor": "0", "quoteMaxLoan": "", "tier": "1", "uly": "BTC-USDT"},
  {"baseMaxLoan": "", "imr": "0.0133", "instFamily": "BTC-USDT", "instId": "", "maxLever": "75", "maxSz": "1000", "minSz": "501", "mmr": "0.006", "optMgnFactor": "0", "quoteMaxLoan": "", "tier": "2", "uly": "BTC-USDT"},
  {"baseMaxLoan": "", "imr": "0.02", "instFamily": "BTC-USDT", "instId": "", "maxLever": "50", "maxSz": "950000", "minSz": "1001", "mmr": "0.01", "optMgnFactor": "0", "quoteMaxLoan": "", "tier": "3", "uly": "BTC-USDT"},
  {"baseMaxLoan": "", "imr": "0.05", "instFamily": "BTC-USDT", "instId": "", "maxLever": "20", "maxSz": "2000000", "minSz": "950001", "mmr": "0.02", "optMgnFactor": "0", "quoteMaxLoan": "", "tier": "4", "uly": "BTC-USDT"}]}'::jsonb) AS okx;
-- a gap of more than one unit is not closed: the brackets must touch
SELECT pg_temp.try($$SELECT isomargin.tiers('[{"maxLever": "100", "maxSz": "500", "minSz": "0", "mmr": "0.004"},
  {"maxLever": "75", "maxSz": "1000", "minSz": "502", "mmr": "0.006"}]'::jsonb)$$);
-- Bybit v5 (GET /v5/market/risk-limit): riskLimitValue is each tier's cap,
-- its floor the cap before it; mmDeduction is the venue's amount ("" in the
-- first tier): amounts=given.
SELECT isomargin.tiers('{"retCode": 0, "retMsg": "OK", "result": {"category": "linear", "list": [
  {"id": 2, "symbol": "BTCUSDT", "riskLimitValue": "2600000", "maintenanceMargin": "0.0056", "initialMargin": "0.0116", "isLowestRisk": 0, "maxLeverage": "86.20", "mmDeduction": "1200"},
  {"id": 1, "symbol": "BTCUSDT", "riskLimitValue": "2000000", "maintenanceMargin": "0.005", "initialMargin": "0.01", "isLowestRisk": 1, "maxLeverage": "100.00", "mmDeduction": ""}]},
  "retExtInfo": {}, "time": 1672054488010}'::jsonb) AS bybit;
-- Hyperliquid (info "meta", marginTables): lower bounds only; the rate is
-- half the initial rate at the maximum leverage, 1/(2L): 1/80, 1/40;
-- amounts derived (A_2 = 150,000,000 * 0.0125 = 1,875,000); no last cap.
SELECT isomargin.tiers('{"description": "tiered 40x", "marginTiers": [
  {"lowerBound": "0.0", "maxLeverage": 40}, {"lowerBound": "150000000.0", "maxLeverage": 20}]}'::jsonb) AS hyperliquid;
-- 1/(2*3) is not a whole decimal: rounded up to 18 decimals (a requirement is never understated)
SELECT isomargin.tiers('{"marginTiers": [{"lowerBound": "0.0", "maxLeverage": 3}]}'::jsonb) AS hyperliquid_3x;
-- an object without a known list
SELECT pg_temp.try($$SELECT isomargin.tiers('{"code": "0", "rows": []}'::jsonb)$$);
