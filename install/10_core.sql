-- Core figures of one position with a flat maintenance margin rate.
-- Reference: README.md "Reference" and doc/formulas.md.

CREATE FUNCTION @extschema@.notional(
    size numeric, price numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
AS 'MODULE_PATHNAME', 'notional'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.unrealized_pnl(
    size numeric, entry_price numeric, mark_price numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
AS 'MODULE_PATHNAME', 'unrealized_pnl'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.equity(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
AS 'MODULE_PATHNAME', 'equity'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.initial_margin(
    size numeric, price numeric, leverage numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
AS 'MODULE_PATHNAME', 'initial_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.maintenance_margin(
    size numeric, mark_price numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    maintenance_amount numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'maintenance_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.margin_ratio(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    maintenance_amount numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'margin_ratio'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.margin_status(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    maintenance_amount numeric DEFAULT 0)
RETURNS @extschema@.margin_status
AS 'MODULE_PATHNAME', 'margin_status'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.liquidation_price(
    size numeric, entry_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    maintenance_amount numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'liquidation_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.margin_call_price(
    size numeric, entry_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    tick_size numeric DEFAULT 0,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    maintenance_amount numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'margin_call_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.bankruptcy_price(
    size numeric, entry_price numeric, margin numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'bankruptcy_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Not STRICT: leverage may be NULL (initial_margin is then NULL); any other
-- NULL argument gives a NULL row.
CREATE FUNCTION @extschema@.assess(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    tick_size numeric DEFAULT 0,
    leverage numeric DEFAULT NULL,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    maintenance_amount numeric DEFAULT 0)
RETURNS @extschema@.assessment
AS 'MODULE_PATHNAME', 'assess'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Diagnostics: how many calls of the figures each route answered in this
-- backend (src/functions.c).  The fast route should answer the common case;
-- the exact route takes what it declines.  Parallel workers count their own.
CREATE FUNCTION @extschema@.routes(OUT route pg_catalog.text, OUT calls pg_catalog.int8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'routes'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
