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

-- One position's liquidation price under each convention, side by side
-- (doc/venues.md): every combination of mm_basis and fee_basis (with tiers,
-- also bracket_basis) in enum order, the default first; from_default the
-- difference from the default's price, spread the highest minus the lowest.
CREATE FUNCTION @extschema@.liquidation_price_by_convention(
    size numeric, entry_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0,
    maintenance_amount numeric DEFAULT 0)
RETURNS TABLE (mm_basis @extschema@.mm_basis, fee_basis @extschema@.fee_basis,
               bracket_basis @extschema@.bracket_basis, liquidation_price numeric,
               from_default numeric, spread numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
SELECT c.mb, c.fb, NULL::@extschema@.bracket_basis, c.lp,
       c.lp OPERATOR(pg_catalog.-) pg_catalog.first_value(c.lp) OVER (ORDER BY c.mb, c.fb),
       pg_catalog.max(c.lp) OVER () OPERATOR(pg_catalog.-) pg_catalog.min(c.lp) OVER ()
  FROM (SELECT m.mb, f.fb,
               @extschema@.liquidation_price($1, $2, $3, $4, $5, $6, $7, $8, m.mb, f.fb, $9) AS lp
          FROM pg_catalog.unnest(pg_catalog.enum_range(NULL::@extschema@.mm_basis)) AS m(mb)
         CROSS JOIN pg_catalog.unnest(pg_catalog.enum_range(NULL::@extschema@.fee_basis)) AS f(fb)) AS c
 ORDER BY c.mb, c.fb
$fn$;

CREATE FUNCTION @extschema@.liquidation_price_by_convention(
    size numeric, entry_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0,
    tier_basis @extschema@.tier_basis DEFAULT 'notional')
RETURNS TABLE (mm_basis @extschema@.mm_basis, fee_basis @extschema@.fee_basis,
               bracket_basis @extschema@.bracket_basis, liquidation_price numeric,
               from_default numeric, spread numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
SELECT c.mb, c.fb, c.bb, c.lp,
       c.lp OPERATOR(pg_catalog.-) pg_catalog.first_value(c.lp) OVER (ORDER BY c.mb, c.fb, c.bb),
       pg_catalog.max(c.lp) OVER () OPERATOR(pg_catalog.-) pg_catalog.min(c.lp) OVER ()
  FROM (SELECT m.mb, f.fb, b.bb,
               @extschema@.liquidation_price($1, $2, $3, $4, $5, $6, $7, $8, m.mb, f.fb, $9, b.bb) AS lp
          FROM pg_catalog.unnest(pg_catalog.enum_range(NULL::@extschema@.mm_basis)) AS m(mb)
         CROSS JOIN pg_catalog.unnest(pg_catalog.enum_range(NULL::@extschema@.fee_basis)) AS f(fb)
         CROSS JOIN pg_catalog.unnest(pg_catalog.enum_range(NULL::@extschema@.bracket_basis)) AS b(bb)) AS c
 ORDER BY c.mb, c.fb, c.bb
$fn$;
