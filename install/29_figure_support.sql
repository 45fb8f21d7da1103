-- The planner support function of the figures that take venue conventions
-- (src/figure_support.c): at plan time it drops the trailing convention
-- arguments (mm_basis, fee_basis, maintenance_amount, tier_basis,
-- bracket_basis) that are constants equal to their defaults, so that a call
-- on the mark basis does not evaluate them on every row.  The C functions read
-- a convention argument a call leaves out as its default: same results.
-- EXPLAIN VERBOSE shows the shorter call.

CREATE FUNCTION @extschema@._figure_support(internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'figure_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

ALTER FUNCTION @extschema@.maintenance_margin(numeric, numeric, numeric, numeric,
    @extschema@.contract_kind, numeric, numeric)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.maintenance_margin(numeric, numeric, @extschema@.tiers, numeric,
    @extschema@.contract_kind, numeric, @extschema@.tier_basis)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.margin_ratio(numeric, numeric, numeric, numeric, numeric, numeric,
    @extschema@.contract_kind, numeric, @extschema@.mm_basis, @extschema@.fee_basis, numeric)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.margin_ratio(numeric, numeric, numeric, numeric, @extschema@.tiers,
    numeric, @extschema@.contract_kind, numeric, @extschema@.mm_basis, @extschema@.fee_basis,
    @extschema@.tier_basis, @extschema@.bracket_basis)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.okx_margin_ratio(numeric, numeric, numeric, numeric, numeric, numeric,
    @extschema@.contract_kind, numeric, @extschema@.mm_basis, @extschema@.fee_basis, numeric)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.okx_margin_ratio(numeric, numeric, numeric, numeric, @extschema@.tiers,
    numeric, @extschema@.contract_kind, numeric, @extschema@.mm_basis, @extschema@.fee_basis,
    @extschema@.tier_basis, @extschema@.bracket_basis)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.margin_status(numeric, numeric, numeric, numeric, numeric, numeric,
    @extschema@.contract_kind, numeric, numeric, @extschema@.mm_basis, @extschema@.fee_basis,
    numeric)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.margin_status(numeric, numeric, numeric, numeric, @extschema@.tiers,
    numeric, @extschema@.contract_kind, numeric, numeric, @extschema@.mm_basis,
    @extschema@.fee_basis, @extschema@.tier_basis, @extschema@.bracket_basis)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.liquidation_price(numeric, numeric, numeric, numeric, numeric,
    @extschema@.contract_kind, numeric, numeric, @extschema@.mm_basis, @extschema@.fee_basis,
    numeric)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.liquidation_price(numeric, numeric, numeric, @extschema@.tiers,
    numeric, @extschema@.contract_kind, numeric, numeric, @extschema@.mm_basis,
    @extschema@.fee_basis, @extschema@.tier_basis, @extschema@.bracket_basis)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.margin_call_price(numeric, numeric, numeric, numeric, numeric,
    @extschema@.contract_kind, numeric, numeric, numeric, @extschema@.mm_basis,
    @extschema@.fee_basis, numeric)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.margin_call_price(numeric, numeric, numeric, @extschema@.tiers,
    numeric, @extschema@.contract_kind, numeric, numeric, numeric, @extschema@.mm_basis,
    @extschema@.fee_basis, @extschema@.tier_basis, @extschema@.bracket_basis)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.assess(numeric, numeric, numeric, numeric, numeric, numeric,
    @extschema@.contract_kind, numeric, numeric, numeric, numeric, @extschema@.mm_basis,
    @extschema@.fee_basis, numeric)
    SUPPORT @extschema@._figure_support;
ALTER FUNCTION @extschema@.assess(numeric, numeric, numeric, numeric, @extschema@.tiers,
    numeric, @extschema@.contract_kind, numeric, numeric, numeric, numeric,
    @extschema@.mm_basis, @extschema@.fee_basis, @extschema@.tier_basis,
    @extschema@.bracket_basis)
    SUPPORT @extschema@._figure_support;
