-- Venue conventions (issue 14, doc/venues.md): each a named argument of the
-- figures it changes, the mark basis by default (doc/formulas.md).

CREATE TYPE @extschema@.mm_basis AS ENUM ('mark', 'entry');
COMMENT ON TYPE @extschema@.mm_basis IS
    'maintenance margin (and a fee to close charged with it) on the notional at the evaluated price (mark) or at entry (entry: Bybit classic)';

CREATE TYPE @extschema@.fee_basis AS ENUM ('mark', 'bankruptcy');
COMMENT ON TYPE @extschema@.fee_basis IS
    'fee to close charged on the notional the maintenance margin takes (mark) or on the notional at the bankruptcy price (bankruptcy: Bybit)';

CREATE TYPE @extschema@.tier_basis AS ENUM ('notional', 'contracts');
COMMENT ON TYPE @extschema@.tier_basis IS
    'brackets chosen by notional (notional) or by the size in contracts against floors in contracts (contracts: OKX)';

CREATE TYPE @extschema@.bracket_basis AS ENUM ('price', 'entry');
COMMENT ON TYPE @extschema@.bracket_basis IS
    'the bracket of the notional at the price evaluated, the tier-consistent root for prices (price), or at entry (entry: calculators that do not iterate)';
