-- Install, and show the API's shape: every function's arguments, volatility,
-- strictness and parallel safety are part of the interface.
CREATE EXTENSION isomargin;

SELECT e.extname, e.extversion, n.nspname AS schema, e.extrelocatable
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = 'isomargin';

SELECT p.proname,
       pg_get_function_identity_arguments(p.oid) AS args,
       p.provolatile AS vol, p.proisstrict AS strict, p.proparallel AS par,
       p.prosecdef AS secdef, p.proconfig AS config
FROM pg_proc p
WHERE p.pronamespace = 'isomargin'::regnamespace AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')
  AND p.proname IN ('notional', 'unrealized_pnl', 'equity', 'initial_margin', 'maintenance_margin',
                    'margin_ratio', 'margin_status', 'liquidation_price', 'margin_call_price',
                    'bankruptcy_price', 'assess')
  AND pg_get_function_identity_arguments(p.oid) NOT LIKE '%tiers%'
ORDER BY 1, 2;

SELECT pg_catalog.enum_range(NULL::isomargin.contract_kind) AS kinds,
       pg_catalog.enum_range(NULL::isomargin.margin_status) AS statuses;
