-- bench/core_tiers.sql: adds the tier-aware liquidation price to the core
-- throughput benchmark when the extension has it (the liquidation_price
-- overload taking `tiers isomargin.tiers` and the isomargin.tiers(jsonb)
-- constructor); otherwise says so and adds nothing.
--
-- The schedules are the illustrative ones of the domain reference (linear:
-- notional in quote; inverse: notional in coin).  Two variants:
--   one schedule:  the linear schedule as one constant for every row, the
--                  case the issue's target is about (a tiers value applied to
--                  millions of rows);
--   per kind:      each row gets its kind's schedule (CASE over two constants).

\set ON_ERROR_STOP on

SELECT EXISTS (
    SELECT 1
    FROM pg_catalog.pg_proc AS p
    JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
    WHERE n.nspname = 'isomargin' AND p.proname = 'liquidation_price'
      AND pg_catalog.to_regtype('isomargin.tiers') = ANY (p.proargtypes::oid[]))
   AND pg_catalog.to_regprocedure('isomargin.tiers(jsonb)') IS NOT NULL AS has_tiers \gset

\if :has_tiers
CREATE TABLE bench.tier_schedules (kind isomargin.contract_kind PRIMARY KEY, schedule text NOT NULL);

DO $$
DECLARE
    lin text;
    inv text;
    probe numeric;
    q_one text;
    q_kind text;
BEGIN
    lin := isomargin.tiers($j$[
        {"tier": 1, "minNotional": 0,       "maxNotional": 10000,    "maintenanceMarginRate": 0.005, "maxLeverage": 100},
        {"tier": 2, "minNotional": 10000,   "maxNotional": 100000,   "maintenanceMarginRate": 0.01,  "maxLeverage": 50},
        {"tier": 3, "minNotional": 100000,  "maxNotional": 500000,   "maintenanceMarginRate": 0.02,  "maxLeverage": 20},
        {"tier": 4, "minNotional": 500000,  "maxNotional": 2000000,  "maintenanceMarginRate": 0.05,  "maxLeverage": 10},
        {"tier": 5, "minNotional": 2000000, "maxNotional": 10000000, "maintenanceMarginRate": 0.1,   "maxLeverage": 5}
    ]$j$::jsonb)::text;
    inv := isomargin.tiers($j$[
        {"tier": 1, "minNotional": 0,  "maxNotional": 5,  "maintenanceMarginRate": 0.005, "maxLeverage": 100},
        {"tier": 2, "minNotional": 5,  "maxNotional": 10, "maintenanceMarginRate": 0.01,  "maxLeverage": 50},
        {"tier": 3, "minNotional": 10, "maxNotional": 20, "maintenanceMarginRate": 0.025, "maxLeverage": 20},
        {"tier": 4, "minNotional": 20, "maxNotional": 50, "maintenanceMarginRate": 0.05,  "maxLeverage": 10}
    ]$j$::jsonb)::text;
    INSERT INTO bench.tier_schedules VALUES ('linear', lin), ('inverse', inv);

    q_one := format($q$SELECT id, isomargin.liquidation_price(
                           size => size, entry_price => entry_price, margin => margin,
                           tiers => %L::isomargin.tiers,
                           contract_size => contract_size, kind => kind, fee_rate => fee_rate) AS v
                       FROM positions$q$, lin);
    q_kind := format($q$SELECT id, isomargin.liquidation_price(
                            size => size, entry_price => entry_price, margin => margin,
                            tiers => CASE WHEN kind = 'linear' THEN %L::isomargin.tiers
                                          ELSE %L::isomargin.tiers END,
                            contract_size => contract_size, kind => kind, fee_rate => fee_rate) AS v
                        FROM positions$q$, lin, inv);
    BEGIN
        EXECUTE format('SELECT sum(v) FROM (%s LIMIT 1000) AS q', q_kind) INTO probe;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'tier-aware liquidation_price not timed: the probe query failed: %', SQLERRM;
        RETURN;
    END;
    INSERT INTO bench.variants VALUES
        (40, 'liquidation_price with tiers: C, one schedule', 'tiers', 'c', 'sum', q_one),
        (41, 'liquidation_price with tiers: C, per kind', 'tiers', 'c', 'sum', q_kind);
END
$$;
\else
\echo 'isomargin has no tier-aware liquidation_price yet: that part of the benchmark is skipped'
\endif
