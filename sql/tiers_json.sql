-- isomargin.tiers(jsonb) and isomargin.tiers_to_jsonb(tiers): the
-- exchange's raw leverage brackets and the client libraries' leverage
-- tiers, in and out.

-- The exchange's bracket endpoint for one symbol: the wrapper object, JSON
-- numbers, maintenance amounts ("cum") given.  BTCUSDT-like brackets.
CREATE TEMP TABLE exchange_doc AS SELECT '{
  "symbol": "BTCUSDT",
  "brackets": [
    {"bracket": 1,  "initialLeverage": 125, "notionalCap": 50000,     "notionalFloor": 0,         "maintMarginRatio": 0.004, "cum": 0.0},
    {"bracket": 2,  "initialLeverage": 100, "notionalCap": 250000,    "notionalFloor": 50000,     "maintMarginRatio": 0.005, "cum": 50.0},
    {"bracket": 3,  "initialLeverage": 50,  "notionalCap": 1000000,   "notionalFloor": 250000,    "maintMarginRatio": 0.01,  "cum": 1300.0},
    {"bracket": 4,  "initialLeverage": 20,  "notionalCap": 10000000,  "notionalFloor": 1000000,   "maintMarginRatio": 0.025, "cum": 16300.0},
    {"bracket": 5,  "initialLeverage": 10,  "notionalCap": 20000000,  "notionalFloor": 10000000,  "maintMarginRatio": 0.05,  "cum": 266300.0},
    {"bracket": 6,  "initialLeverage": 5,   "notionalCap": 50000000,  "notionalFloor": 20000000,  "maintMarginRatio": 0.1,   "cum": 1266300.0},
    {"bracket": 7,  "initialLeverage": 4,   "notionalCap": 100000000, "notionalFloor": 50000000,  "maintMarginRatio": 0.125, "cum": 2516300.0},
    {"bracket": 8,  "initialLeverage": 3,   "notionalCap": 200000000, "notionalFloor": 100000000, "maintMarginRatio": 0.15,  "cum": 5016300.0},
    {"bracket": 9,  "initialLeverage": 2,   "notionalCap": 300000000, "notionalFloor": 200000000, "maintMarginRatio": 0.25,  "cum": 25016300.0},
    {"bracket": 10, "initialLeverage": 1,   "notionalCap": 500000000, "notionalFloor": 300000000, "maintMarginRatio": 0.5,   "cum": 100016300.0}
  ]
}'::jsonb AS doc;
SELECT isomargin.tiers(doc) AS btcusdt FROM exchange_doc;

-- The same list: bare, in a one-element array (the endpoint without a
-- symbol), with numbers as strings and without cum, shuffled.
SELECT isomargin.tiers(doc -> 'brackets') OPERATOR(isomargin.=) isomargin.tiers(doc) AS bare_list,
       isomargin.tiers(jsonb_build_array(doc)) OPERATOR(isomargin.=) isomargin.tiers(doc) AS wrapped_in_array,
       isomargin.tiers((SELECT jsonb_agg(jsonb_build_object(
                                 'bracket', (e ->> 'bracket'),
                                 'initialLeverage', (e ->> 'initialLeverage'),
                                 'notionalCap', (e ->> 'notionalCap') || '.00',
                                 'notionalFloor', (e ->> 'notionalFloor'),
                                 'maintMarginRatio', (e ->> 'maintMarginRatio') || '0')
                                 ORDER BY (e ->> 'bracket')::int DESC)
                        FROM jsonb_array_elements(doc -> 'brackets') e))
           OPERATOR(isomargin.=) isomargin.tiers(doc) AS strings_no_cum_reversed
FROM exchange_doc;

-- The client libraries' leverage tiers (the exchange's brackets mapped by
-- the library, the raw bracket kept under info).
SELECT isomargin.tiers('[
  {"tier": 1, "symbol": "ETH/USDT:USDT", "currency": "USDT", "minNotional": 0,     "maxNotional": 10000,
   "maintenanceMarginRate": 0.0065, "maxLeverage": 75,
   "info": {"bracket": "1", "initialLeverage": "75", "notionalCap": "10000", "notionalFloor": "0", "maintMarginRatio": "0.0065", "cum": "0.0"}},
  {"tier": 2, "symbol": "ETH/USDT:USDT", "currency": "USDT", "minNotional": 10000, "maxNotional": 100000,
   "maintenanceMarginRate": 0.01, "maxLeverage": 50,
   "info": {"bracket": "2", "initialLeverage": "50", "notionalCap": "100000", "notionalFloor": "10000", "maintMarginRatio": "0.01", "cum": "35.0"}},
  {"tier": 3, "symbol": "ETH/USDT:USDT", "currency": "USDT", "minNotional": 100000, "maxNotional": 500000,
   "maintenanceMarginRate": 0.02, "maxLeverage": 25,
   "info": {"bracket": "3", "initialLeverage": "25", "notionalCap": "500000", "notionalFloor": "100000", "maintMarginRatio": "0.02", "cum": "1035.0"}}
]'::jsonb) AS ethusdt;

-- A maintenance amount may also be given as maintenanceAmount; it must match.
SELECT isomargin.tiers('[{"tier": 1, "minNotional": "0", "maxNotional": "5", "maintenanceMarginRate": "0.005", "maxLeverage": "100", "maintenanceAmount": "0"},
                         {"tier": 2, "minNotional": "5", "maxNotional": "10", "maintenanceMarginRate": "0.01", "maxLeverage": "50", "maintenanceAmount": "0.025"}]'::jsonb) AS given_amount;

-- Out: client-library tiers, every number exact; and back in, unchanged.
SELECT isomargin.tiers_to_jsonb('{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50; 10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10}');
SELECT jsonb_pretty(isomargin.tiers_to_jsonb('{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50}'));
SELECT isomargin.tiers(isomargin.tiers_to_jsonb(isomargin.tiers(doc))) OPERATOR(isomargin.=) isomargin.tiers(doc) AS exchange_round_trip,
       isomargin.tiers(isomargin.tiers_to_jsonb('{0..0.000000000000000001 mmr=0.000000000000000001 max_leverage=999999999999999999}'))::text
           = '{0..0.000000000000000001 mmr=0.000000000000000001 amount=0 max_leverage=999999999999999999}' AS extreme_round_trip
FROM exchange_doc;

-- Documents that are not schedules: 22023, with what is wrong in the detail.
CREATE FUNCTION pg_temp.try_json(doc jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text;
    msg text;
    det text;
BEGIN
    RETURN isomargin.tiers(doc)::text;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ' ' || msg || ': ' || det;
END
$$;
CREATE TEMP TABLE bad_docs (id int, what text, doc jsonb);
INSERT INTO bad_docs VALUES
    (1,  'scalar',               '42'),
    (2,  'empty list',           '[]'),
    (3,  'object, no brackets',  '{"symbol": "BTCUSDT"}'),
    (4,  'brackets not a list',  '{"symbol": "BTCUSDT", "brackets": {}}'),
    (5,  'two symbols',          '[{"symbol": "A", "brackets": []}, {"symbol": "B", "brackets": []}]'),
    (6,  'element not object',   '[1]'),
    (7,  'unknown keys',         '[{"lowerLimit": "0", "maxLeverage": 40}]'),
    (8,  'quantity brackets',    '[{"bracket": 1, "initialLeverage": 125, "qtyCap": 50, "qtyFloor": 0, "maintMarginRatio": 0.004}]'),
    (9,  'mixed formats',        '[{"notionalFloor": 0, "notionalCap": 10, "maintMarginRatio": 0.01, "initialLeverage": 10},
                                   {"minNotional": 10, "maxNotional": 20, "maintenanceMarginRate": 0.02, "maxLeverage": 5}]'),
    (10, 'missing key',          '[{"notionalFloor": 0, "notionalCap": 10, "maintMarginRatio": 0.01}]'),
    (11, 'null value',           '[{"minNotional": 0, "maxNotional": null, "maintenanceMarginRate": 0.01, "maxLeverage": 10}]'),
    (12, 'boolean value',        '[{"minNotional": 0, "maxNotional": 10, "maintenanceMarginRate": true, "maxLeverage": 10}]'),
    (13, 'not a number',         '[{"minNotional": 0, "maxNotional": "ten", "maintenanceMarginRate": 0.01, "maxLeverage": 10}]'),
    (14, 'string with spaces',   '[{"minNotional": 0, "maxNotional": " 10", "maintenanceMarginRate": 0.01, "maxLeverage": 10}]'),
    (15, 'too many digits',      '[{"minNotional": 0, "maxNotional": 1e18, "maintenanceMarginRate": 0.01, "maxLeverage": 10}]'),
    (16, 'too many decimals',    '[{"minNotional": 0, "maxNotional": "0.0000000000000000001", "maintenanceMarginRate": 0.01, "maxLeverage": 10}]'),
    (17, 'negative rate',        '[{"minNotional": 0, "maxNotional": 10, "maintenanceMarginRate": -0.01, "maxLeverage": 10}]'),
    (18, 'negative string',      '[{"minNotional": "-1", "maxNotional": 10, "maintenanceMarginRate": 0.01, "maxLeverage": 10}]'),
    (19, 'gap',                  '[{"minNotional": 0, "maxNotional": 10, "maintenanceMarginRate": 0.01, "maxLeverage": 10},
                                   {"minNotional": 11, "maxNotional": 20, "maintenanceMarginRate": 0.02, "maxLeverage": 5}]'),
    (20, 'cum mismatch',         '[{"notionalFloor": 0, "notionalCap": 10, "maintMarginRatio": 0.01, "initialLeverage": 10, "cum": 0},
                                   {"notionalFloor": 10, "notionalCap": 20, "maintMarginRatio": 0.02, "initialLeverage": 5, "cum": 0.2}]'),
    (21, 'info.cum mismatch',    '[{"minNotional": 0, "maxNotional": 10, "maintenanceMarginRate": 0.01, "maxLeverage": 10, "info": {"cum": "0"}},
                                   {"minNotional": 10, "maxNotional": 20, "maintenanceMarginRate": 0.02, "maxLeverage": 5, "info": {"cum": "0.2"}}]'),
    (22, 'info.cum not number',  '[{"minNotional": 0, "maxNotional": 10, "maintenanceMarginRate": 0.01, "maxLeverage": 10, "info": {"cum": [0]}}]'),
    (23, 'leverage rising',      '[{"notionalFloor": 0, "notionalCap": 10, "maintMarginRatio": 0.01, "initialLeverage": 10},
                                   {"notionalFloor": 10, "notionalCap": 20, "maintMarginRatio": 0.02, "initialLeverage": 20}]');
SELECT id, what, pg_temp.try_json(doc) AS result FROM bad_docs ORDER BY id;

-- 65 elements.
SELECT pg_temp.try_json(jsonb_agg(jsonb_build_object('minNotional', i - 1, 'maxNotional', i,
                                                     'maintenanceMarginRate', 0.001, 'maxLeverage', 100)))
       AS sixty_five
FROM generate_series(1, 65) i;

-- A function call with a string literal is a cast from text, which reads
-- the text form; the jsonb constructor needs jsonb.
SELECT isomargin.tiers('[{"minNotional": 0, "maxNotional": 10, "maintenanceMarginRate": 0.01, "maxLeverage": 10}]');
SELECT isomargin.tiers('[{"minNotional": 0, "maxNotional": 10, "maintenanceMarginRate": 0.01, "maxLeverage": 10}]'::jsonb);
