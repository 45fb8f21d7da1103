-- isomargin install script, assembled from install/*.sql by the Makefile.
\echo Use "CREATE EXTENSION isomargin" to load this file. \quit

-- The schema is created by CREATE EXTENSION (control file: schema = isomargin).
-- A schema of that name made beforehand by another role could hold objects
-- planted to be picked up by the extension's SQL: refuse it.
DO $guard$
BEGIN
    IF (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname = 'isomargin')
       OPERATOR(pg_catalog.<>) (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER) THEN
        RAISE EXCEPTION 'schema "isomargin" already exists and is owned by another role'
            USING ERRCODE = '42501',
                  HINT = 'Drop or rename that schema, or install as its owner.';
    END IF;
END
$guard$;

CREATE TYPE @extschema@.contract_kind AS ENUM ('linear', 'inverse');
COMMENT ON TYPE @extschema@.contract_kind IS
    'linear: quote-settled, notional = |size| * contract_size * price; inverse: coin-settled, notional = |size| * contract_size / price';

-- In order of severity: the enum's sort order is the order of the maintenance check.
CREATE TYPE @extschema@.margin_status AS ENUM ('ok', 'margin_call', 'liquidate', 'bankrupt');
COMMENT ON TYPE @extschema@.margin_status IS
    'maintenance check result, in order of severity: ok < margin_call < liquidate < bankrupt';

CREATE TYPE @extschema@.assessment AS (
    notional            numeric,
    unrealized_pnl      numeric,
    equity              numeric,
    initial_margin      numeric,
    maintenance_margin  numeric,
    margin_ratio        numeric,
    status              @extschema@.margin_status,
    liquidation_price   numeric,
    margin_call_price   numeric,
    bankruptcy_price    numeric
);
COMMENT ON TYPE @extschema@.assessment IS 'every isolated-margin figure of one position at one mark price (isomargin.assess)';
