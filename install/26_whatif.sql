-- What-if and pre-trade figures (src/whatif.c; doc/whatif.md): the side,
-- effective leverage, return on equity, the distance to liquidation, the
-- margin to add or that can be removed, sizing, and a position after a fill.
-- Each figure that depends on the maintenance rule has a flat mmr form and a
-- tiers form (the same C function, which reads the rule by the declared type).

CREATE TYPE @extschema@.position_side AS ENUM ('long', 'short');
COMMENT ON TYPE @extschema@.position_side IS
    'the side of a position: long (size > 0) or short (size < 0); isomargin.position_side(0) is NULL';

CREATE TYPE @extschema@.fill_result AS (
    size            numeric,
    entry_price     numeric,
    margin          numeric,
    realized_pnl    numeric,
    fee             numeric,
    released_margin numeric,
    cash            numeric
);
COMMENT ON TYPE @extschema@.fill_result IS
    'a position after a fill (isomargin.after_fill), and what the fill settled: realized PnL, fee, released margin, cash to the wallet';

CREATE FUNCTION @extschema@.position_side(size numeric)
RETURNS @extschema@.position_side
AS 'MODULE_PATHNAME', 'position_side'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.effective_leverage(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
AS 'MODULE_PATHNAME', 'effective_leverage'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.return_on_equity(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
AS 'MODULE_PATHNAME', 'return_on_equity'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.liquidation_distance(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'liquidation_distance'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.liquidation_distance(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'liquidation_distance'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.liquidation_distance_ratio(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'liquidation_distance_ratio'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.liquidation_distance_ratio(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'liquidation_distance_ratio'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.top_up_to_ok(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8)
RETURNS numeric
AS 'MODULE_PATHNAME', 'top_up_to_ok'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.top_up_to_ok(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8)
RETURNS numeric
AS 'MODULE_PATHNAME', 'top_up_to_ok'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.top_up_for_liquidation_price(
    size numeric, entry_price numeric, margin numeric, target_price numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'top_up_for_liquidation_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.top_up_for_liquidation_price(
    size numeric, entry_price numeric, margin numeric, target_price numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'top_up_for_liquidation_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.max_removable_margin(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, leverage numeric,
    mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'max_removable_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.max_removable_margin(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, leverage numeric,
    tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'max_removable_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.max_size(
    collateral numeric, price numeric, leverage numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    lot_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'max_size'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.max_size(
    collateral numeric, price numeric, leverage numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    lot_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'max_size_tiers'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.max_leverage_for_size(
    size numeric, price numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
AS 'MODULE_PATHNAME', 'max_leverage_for_size'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.after_fill(
    size numeric, entry_price numeric, margin numeric, fill_size numeric, fill_price numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_added numeric DEFAULT 0)
RETURNS @extschema@.fill_result
AS 'MODULE_PATHNAME', 'after_fill'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- max_leverage and max_notional answer NULL beyond the schedule (a report
-- over a whole book carries on); with strict => true they raise the error.
CREATE FUNCTION @extschema@.max_leverage(
    tiers @extschema@.tiers, notional pg_catalog.numeric, strict pg_catalog.bool)
RETURNS pg_catalog.numeric
AS 'MODULE_PATHNAME', 'max_leverage'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.max_notional(
    tiers @extschema@.tiers, leverage pg_catalog.numeric, strict pg_catalog.bool)
RETURNS pg_catalog.numeric
AS 'MODULE_PATHNAME', 'max_notional'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
