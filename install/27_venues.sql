-- The margin ratio printed the other way up, as OKX prints it (issue 14,
-- doc/venues.md): equity over the maintenance margin with the fee to close,
-- liquidation at or below 1.  Its own function, beside margin_ratio (MM / equity).

CREATE FUNCTION @extschema@.okx_margin_ratio(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    maintenance_amount numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'okx_margin_ratio'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.okx_margin_ratio(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price')
RETURNS numeric
AS 'MODULE_PATHNAME', 'okx_margin_ratio'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
