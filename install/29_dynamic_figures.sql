-- Dynamic requirements, part 3: the figures of a position whose requirement
-- carries an add-on rate c >= 0 (src/dynamic.c; doc/dynamic.md): every
-- bracket's r_i + f becomes r_i + f + c, the maintenance amounts unchanged, so
-- MM(P) = N(P)*(r_i + f + c) - A_i and the liquidation and margin-call prices
-- are the same exact solved equations; the initial rate 1/L becomes 1/L + c.
-- The add-on is typically volatility_addon of the instrument plus
-- liquidity_addon of the position.  Each figure has a flat mmr form and a
-- tiers form (one C function, which reads the rule by the declared type).

CREATE FUNCTION @extschema@.dynamic_initial_margin(
    size numeric, price numeric, leverage numeric, addon_rate numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
AS 'MODULE_PATHNAME', 'dynamic_initial_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.dynamic_maintenance_margin(
    size numeric, mark_price numeric, addon_rate numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'dynamic_maintenance_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.dynamic_margin_status(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    addon_rate numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8)
RETURNS @extschema@.margin_status
AS 'MODULE_PATHNAME', 'dynamic_margin_status'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.dynamic_liquidation_price(
    size numeric, entry_price numeric, margin numeric, addon_rate numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'dynamic_liquidation_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.dynamic_margin_call_price(
    size numeric, entry_price numeric, margin numeric, addon_rate numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'dynamic_margin_call_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.dynamic_maintenance_margin(
    size numeric, mark_price numeric, addon_rate numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'dynamic_maintenance_margin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.dynamic_margin_status(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    addon_rate numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8)
RETURNS @extschema@.margin_status
AS 'MODULE_PATHNAME', 'dynamic_margin_status'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.dynamic_liquidation_price(
    size numeric, entry_price numeric, margin numeric, addon_rate numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'dynamic_liquidation_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.dynamic_margin_call_price(
    size numeric, entry_price numeric, margin numeric, addon_rate numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8,
    tick_size numeric DEFAULT 0)
RETURNS numeric
AS 'MODULE_PATHNAME', 'dynamic_margin_call_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
