-- The core figures with a bracket schedule (isomargin.tiers) in place of a
-- flat mmr: the same C functions, which read the rule by the declared type.
-- The maintenance margin uses the bracket of the notional at the evaluated
-- price; the liquidation and margin-call prices are the tier-consistent roots
-- (doc/formulas.md, "Tiers").

CREATE FUNCTION @extschema@.maintenance_margin(
    size numeric, mark_price numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tier_basis @extschema@.tier_basis DEFAULT 'notional')
RETURNS numeric
AS 'MODULE_PATHNAME', 'maintenance_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.margin_ratio(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price')
RETURNS numeric
AS 'MODULE_PATHNAME', 'margin_ratio'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.margin_status(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price')
RETURNS @extschema@.margin_status
AS 'MODULE_PATHNAME', 'margin_status'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.liquidation_price(
    size numeric, entry_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price')
RETURNS numeric
AS 'MODULE_PATHNAME', 'liquidation_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.margin_call_price(
    size numeric, entry_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    tick_size numeric DEFAULT 0,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price')
RETURNS numeric
AS 'MODULE_PATHNAME', 'margin_call_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.assess(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    tick_size numeric DEFAULT 0,
    leverage numeric DEFAULT NULL,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price')
RETURNS @extschema@.assessment
AS 'MODULE_PATHNAME', 'assess'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
