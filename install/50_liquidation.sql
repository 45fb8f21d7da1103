-- The liquidation engine (doc/liquidation.md): closing part of a position,
-- how much to close, the insurance fund's ledger, auto-deleveraging, and a
-- worker that claims enforcement's events and liquidates what they flag.
-- Everything here is SQL and PL/pgSQL over the C figures: the close itself
-- is after_fill's (close_part in src/formulas_template.h), one text.

-- ---------------------------------------------------------------- item 1: the close

CREATE TYPE @extschema@.close_result AS (
    size             numeric,
    entry_price      numeric,
    margin           numeric,
    realized_pnl     numeric,
    fee              numeric,
    released_margin  numeric,
    cash             numeric,
    liquidation_price numeric,
    bankruptcy_price numeric
);
COMMENT ON TYPE @extschema@.close_result IS
    'a position after closing part of it (isomargin.close_part): the rest, what the close settled, and the rest''s prices';

-- 0 <= close_size <= |size|, or 22023.
CREATE FUNCTION @extschema@.close_size_check(size numeric, close_size numeric)
RETURNS void
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF close_size < 0 THEN
        RAISE EXCEPTION 'close_size must not be negative'
            USING ERRCODE = '22023', DETAIL = format('The value is %s.', close_size);
    END IF;
    IF close_size > abs(size) THEN
        RAISE EXCEPTION 'close_size must not exceed the size of the position'
            USING ERRCODE = '22023',
                  DETAIL = format('The position holds %s contracts; close_size is %s.', abs(size), close_size);
    END IF;
END
$fn$;

-- The rule is mmr or tiers (the other NULL): the public overloads below.
CREATE FUNCTION @extschema@.close_part_rule(
    size numeric, entry_price numeric, margin numeric, close_size numeric, fill_price numeric,
    mmr numeric, tiers @extschema@.tiers, contract_size numeric,
    kind @extschema@.contract_kind, fee_rate numeric, tick_size numeric)
RETURNS @extschema@.close_result
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    f @extschema@.fill_result;
    r @extschema@.close_result;
BEGIN
    PERFORM @extschema@.close_size_check(size, close_size);
    f := @extschema@.after_fill(size, entry_price, margin, -sign(size) * close_size, fill_price,
                                contract_size, kind, fee_rate);
    r.size := f.size;
    r.entry_price := f.entry_price;
    r.margin := f.margin;
    r.realized_pnl := f.realized_pnl;
    r.fee := f.fee;
    r.released_margin := f.released_margin;
    r.cash := f.cash;
    IF tiers IS NULL THEN
        r.liquidation_price := @extschema@.liquidation_price(f.size, f.entry_price, f.margin, mmr,
                                   contract_size, kind, fee_rate, tick_size);
    ELSE
        r.liquidation_price := @extschema@.liquidation_price(f.size, f.entry_price, f.margin, tiers,
                                   contract_size, kind, fee_rate, tick_size);
    END IF;
    r.bankruptcy_price := @extschema@.bankruptcy_price(f.size, f.entry_price, f.margin,
                              contract_size, kind, tick_size);
    RETURN r;
END
$fn$;

CREATE FUNCTION @extschema@.close_part(
    size numeric, entry_price numeric, margin numeric, close_size numeric, fill_price numeric,
    mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS @extschema@.close_result
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
SELECT @extschema@.close_part_rule($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9, $10)
$fn$;

CREATE FUNCTION @extschema@.close_part(
    size numeric, entry_price numeric, margin numeric, close_size numeric, fill_price numeric,
    tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    tick_size numeric DEFAULT 0)
RETURNS @extschema@.close_result
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
SELECT @extschema@.close_part_rule($1, $2, $3, $4, $5, NULL, $6, $7, $8, $9, $10)
$fn$;

-- ---------------------------------------------------------------- item 3: settlement at the bankruptcy price

CREATE TYPE @extschema@.liquidation_settlement AS (
    size             numeric,   -- the rest of the position
    entry_price      numeric,
    margin           numeric,   -- the rest's margin: its share, in proportion
    closed_size      numeric,
    fill_price       numeric,
    bankruptcy_price numeric,   -- of the position before the close (the rest's is the same)
    released_margin  numeric,   -- the closed part's margin: the trader's loss
    realized_pnl     numeric,   -- the closed part's PnL at the fill price
    to_fund          numeric,   -- released_margin + realized_pnl: the fund's (< 0: the fund pays)
    liquidation_fee  numeric    -- the part of to_fund booked as the liquidation fee
);
COMMENT ON TYPE @extschema@.liquidation_settlement IS
    'a liquidating close settled at the bankruptcy price (isomargin.liquidation_settlement)';

-- The closed part is settled at its bankruptcy price: the trader receives
-- nothing for it (its equity there is 0), and its equity at the fill price,
-- released margin + PnL at the fill, goes to the insurance fund (negative:
-- the fund pays).  The liquidation fee, rate times the closed notional at
-- the fill (after_fill's fee rule), is the part of that equity booked as
-- fee, as far as it goes (none past bankruptcy): the rest's margin stays
-- in proportion, so a partial close never leaves the rest weaker.
CREATE FUNCTION @extschema@.liquidation_settlement(
    size numeric, entry_price numeric, margin numeric, close_size numeric, fill_price numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    liquidation_fee_rate numeric DEFAULT 0)
RETURNS @extschema@.liquidation_settlement
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    f @extschema@.fill_result;
    r @extschema@.liquidation_settlement;
BEGIN
    PERFORM @extschema@.close_size_check(size, close_size);
    f := @extschema@.after_fill(size, entry_price, margin, -sign(size) * close_size, fill_price,
                                contract_size, kind, liquidation_fee_rate);
    r.size := f.size;
    r.entry_price := f.entry_price;
    r.closed_size := close_size;
    r.fill_price := fill_price;
    r.bankruptcy_price := @extschema@.bankruptcy_price(size, entry_price, margin, contract_size, kind);
    r.released_margin := f.released_margin;
    r.realized_pnl := f.realized_pnl;
    r.to_fund := f.released_margin + f.realized_pnl;
    r.liquidation_fee := least(f.fee, greatest(r.to_fund, 0));
    r.margin := margin - f.released_margin;
    RETURN r;
END
$fn$;

-- ---------------------------------------------------------------- item 2: how much to close

-- Presets for the venues' published policies (doc/liquidation.md).
CREATE FUNCTION @extschema@.liquidation_policy(preset text)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    CASE preset
    WHEN 'whole' THEN
        RETURN '{"method": "whole"}';
    WHEN 'okx' THEN
        RETURN '{"method": "tiers", "tiers_down": 2}';
    WHEN 'hyperliquid' THEN
        RETURN '{"method": "fraction", "fraction": 0.2, "threshold": 100000, "cooldown": 30, "backstop_ratio": 0.6666666666666667}';
    WHEN 'smallest' THEN
        RETURN '{"method": "smallest", "buffer": 0.25}';
    ELSE
        RAISE EXCEPTION 'unknown liquidation policy preset "%"', preset
            USING ERRCODE = '22023', HINT = 'The presets are whole, okx, hyperliquid and smallest.';
    END CASE;
END
$fn$;

-- A policy with every key filled in (defaults) and checked, or 22023.
CREATE FUNCTION @extschema@.liquidation_policy_check(policy jsonb)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    full_policy jsonb := '{"method": "whole", "buffer": 0.25, "lot_size": 0.00000001,
                           "liquidation_fee_rate": 0, "fraction": 0.2, "threshold": 0,
                           "cooldown": 0, "backstop_ratio": 0, "tiers_down": 2,
                           "adl_rank": "leverage"}';
    k text;
    v jsonb;
    x numeric;
BEGIN
    IF jsonb_typeof(policy) <> 'object' THEN
        RAISE EXCEPTION 'a liquidation policy must be a JSON object' USING ERRCODE = '22023';
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(policy) LOOP
        IF NOT full_policy ? k THEN
            RAISE EXCEPTION 'unknown key "%" in liquidation policy', k
                USING ERRCODE = '22023',
                      HINT = 'The keys are method, buffer, lot_size, liquidation_fee_rate, fraction, threshold, cooldown, backstop_ratio, tiers_down and adl_rank.';
        END IF;
        IF k = 'method' THEN
            IF v NOT IN ('"whole"', '"smallest"', '"tiers"', '"fraction"') THEN
                RAISE EXCEPTION 'liquidation policy method must be one of whole, smallest, tiers, fraction'
                    USING ERRCODE = '22023', DETAIL = format('The value is %s.', v);
            END IF;
        ELSIF k = 'adl_rank' THEN
            IF v NOT IN ('"leverage"', '"profit"') THEN
                RAISE EXCEPTION 'liquidation policy adl_rank must be leverage or profit'
                    USING ERRCODE = '22023', DETAIL = format('The value is %s.', v);
            END IF;
        ELSE
            IF jsonb_typeof(v) <> 'number' THEN
                RAISE EXCEPTION 'liquidation policy % must be a number', k
                    USING ERRCODE = '22023', DETAIL = format('The value is %s.', v);
            END IF;
            x := v::text::numeric;
            IF x < 0 OR (k IN ('lot_size') AND x = 0)
               OR (k IN ('fraction') AND (x = 0 OR x > 1))
               OR (k = 'tiers_down' AND x <> trunc(x)) THEN
                RAISE EXCEPTION 'liquidation policy % is out of range', k
                    USING ERRCODE = '22023',
                          DETAIL = format('The value is %s.', v),
                          HINT = 'lot_size > 0; 0 < fraction <= 1; tiers_down a whole number; the others >= 0.';
            END IF;
        END IF;
        full_policy := jsonb_set(full_policy, ARRAY[k], v);
    END LOOP;
    RETURN full_policy;
END
$fn$;

-- The maintenance figures with the rule given as mmr or tiers (the other NULL)
-- and the position's dynamic add-on rate c (doc/dynamic.md; 0: none): every
-- bracket's r_i + f taking r_i + f + c, as enforcement charges it.  assess
-- with fee_rate f + c gives the digits of the dynamic_* figures with
-- addon_rate c (sql/dynamic_figures.sql checks it), and the whole row.
-- margin_call_ratio is the attachment's (enforce's setting): the status
-- (ok or margin_call) is the one enforcement stores.  The instrument's venue
-- conventions (doc/venues.md) as enforcement reads them: maintenance_amount
-- with mmr, tier_basis and bracket_basis with tiers.  With the fee at the
-- bankruptcy price an add-on is no fee rate: liquidation_conventions_check
-- refuses that pair before it gets here.
CREATE FUNCTION @extschema@.assess_rule(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    mmr numeric, tiers @extschema@.tiers, contract_size numeric,
    kind @extschema@.contract_kind, fee_rate numeric, addon_rate numeric,
    margin_call_ratio numeric,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price',
    maintenance_amount numeric DEFAULT 0)
RETURNS @extschema@.assessment
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
SELECT CASE WHEN $6 IS NULL
            THEN @extschema@.assess($1, $2, $3, $4, $5, $7, $8, $9 OPERATOR(pg_catalog.+) $10, $11,
                                    mm_basis => $12, fee_basis => $13, maintenance_amount => $16)
            ELSE @extschema@.assess($1, $2, $3, $4, $6, $7, $8, $9 OPERATOR(pg_catalog.+) $10, $11,
                                    mm_basis => $12, fee_basis => $13, tier_basis => $14,
                                    bracket_basis => $15) END
$fn$;

-- The conventions of a sizing, checked (the worker reads what enforcement
-- checked): maintenance_amount >= 0, and no add-on beside the fee at the
-- bankruptcy price (no figure charges that pair; doc/liquidation.md), or
-- 22023 / 0A000.  Returns the add-on.
CREATE FUNCTION @extschema@.liquidation_conventions_check(
    addon numeric, fee_basis @extschema@.fee_basis, maintenance_amount numeric)
RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF maintenance_amount < 0 THEN
        RAISE EXCEPTION 'maintenance_amount must not be negative'
            USING ERRCODE = '22023', DETAIL = format('The value is %s.', maintenance_amount);
    END IF;
    IF addon > 0 AND fee_basis = 'bankruptcy' THEN
        RAISE EXCEPTION 'the liquidation engine does not support a dynamic add-on with fee_basis bankruptcy'
            USING ERRCODE = '0A000',
                  DETAIL = format('The position''s add-on rate is %s.', addon),
                  HINT = 'No figure function charges an add-on beside the fee at the bankruptcy price.';
    END IF;
    RETURN addon;
END
$fn$;

-- k rounded up (down) to a whole lot.
CREATE FUNCTION @extschema@.lot_up(k numeric, lot numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$ SELECT pg_catalog.ceil($1 OPERATOR(pg_catalog./) $2) OPERATOR(pg_catalog.*) $2 $fn$;
CREATE FUNCTION @extschema@.lot_down(k numeric, lot numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$ SELECT pg_catalog.floor($1 OPERATOR(pg_catalog./) $2) OPERATOR(pg_catalog.*) $2 $fn$;

-- The policy comes checked and filled in (liquidation_policy_check).  The
-- requirement is enforcement's: the instrument's addon_rate plus, with a
-- liquidity curve, liquidity_curve_addon(curve, size) of the position, and
-- of the rest for each rest it tries (doc/liquidation.md, "With dynamic
-- add-ons"), every check at the attachment's margin_call_ratio, and under
-- the instrument's venue conventions (doc/liquidation.md, "Under venue
-- conventions").
CREATE FUNCTION @extschema@.liquidation_size_rule(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    mmr numeric, tiers @extschema@.tiers, contract_size numeric,
    kind @extschema@.contract_kind, fee_rate numeric, policy jsonb,
    addon_rate numeric, liquidity_curve jsonb, margin_call_ratio numeric,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price',
    maintenance_amount numeric DEFAULT 0)
RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    p      jsonb := policy;
    method text := p->>'method';
    lot    numeric := (p->>'lot_size')::numeric;
    lf     numeric := (p->>'liquidation_fee_rate')::numeric;
    buf    numeric := (p->>'buffer')::numeric;
    a      @extschema@.assessment;
    q      numeric := abs(size);
    br     jsonb;           -- brackets: [{minNotional, maxNotional, maintenanceMarginRate, maintenanceAmount}]
    nb     int;
    j      int;
    i      int;
    n      numeric;         -- notional of one contract at the mark (a proposal only)
    alpha  numeric;
    beta   numeric;
    lo     numeric;
    hi     numeric;
    cand   numeric;
    k      numeric;
    cap    numeric;
    t      int;
    c      numeric := addon_rate;   -- the position's add-on, at its size
    lo_k   numeric;
    -- the venue conventions (doc/venues.md); without any, conv is false and
    -- nr = nk = n, fin = fee_rate, g = 0: the mark basis
    conv   boolean;
    nr     numeric;         -- notional of one contract the rate applies to (at the mark or the entry)
    nk     numeric;         -- the brackets' unit per contract: notional at the mark or the entry, or 1 (contracts)
    fin    numeric;         -- the fee rate beside the rate: 0 with the fee at the bankruptcy price
    g      numeric;         -- the fee at the bankruptcy price, per contract
BEGIN
    IF size = 0 THEN
        RETURN 0;
    END IF;
    IF liquidity_curve IS NOT NULL THEN
        c := c + @extschema@.liquidity_curve_addon(liquidity_curve, size);
    END IF;
    IF fee_basis = 'bankruptcy' OR maintenance_amount <> 0 THEN
        PERFORM @extschema@.liquidation_conventions_check(c, fee_basis, maintenance_amount);
    END IF;
    a := @extschema@.assess_rule(size, entry_price, mark_price, margin, mmr, tiers,
                                 contract_size, kind, fee_rate, c, margin_call_ratio,
                                 mm_basis, fee_basis, tier_basis, bracket_basis, maintenance_amount);
    IF a.status < 'liquidate' THEN
        RETURN 0;
    END IF;
    IF a.status = 'bankrupt' OR method = 'whole' THEN
        RETURN q;
    END IF;

    IF tiers IS NULL THEN
        br := jsonb_build_array(jsonb_build_object('minNotional', 0, 'maxNotional', NULL,
                  'maintenanceMarginRate', mmr, 'maintenanceAmount', maintenance_amount));
    ELSE
        br := @extschema@.tiers_to_jsonb(tiers);
        IF jsonb_typeof(br) = 'object' THEN    -- amounts given or none: {"amounts": ..., "brackets": [...]}
            br := br->'brackets';
        END IF;
    END IF;
    nb := jsonb_array_length(br);
    n := @extschema@.notional(1, mark_price, contract_size, kind);
    nr := n;
    nk := n;
    fin := fee_rate;
    g := 0;
    conv := mm_basis <> 'mark' OR fee_basis <> 'mark' OR maintenance_amount <> 0
            OR (tiers IS NOT NULL AND (tier_basis <> 'notional' OR bracket_basis <> 'price'));
    IF conv THEN
        -- the rest keeps the entry price and the bankruptcy price (its margin
        -- is its share), so per contract each term below is a constant
        IF mm_basis = 'entry' THEN
            nr := @extschema@.notional(1, entry_price, contract_size, kind);
        END IF;
        IF tiers IS NOT NULL AND tier_basis = 'contracts' THEN
            nk := 1;
        ELSIF mm_basis = 'entry' OR (tiers IS NOT NULL AND bracket_basis = 'entry') THEN
            nk := @extschema@.notional(1, entry_price, contract_size, kind);
        END IF;
        IF fee_basis = 'bankruptcy' THEN
            fin := 0;
            g := greatest(0, fee_rate * CASE WHEN kind = 'inverse'
                                             THEN contract_size / entry_price + sign(size) * margin / q
                                             ELSE contract_size * entry_price - sign(size) * margin / q END);
        END IF;
        j := CASE WHEN tiers IS NULL THEN 1 ELSE @extschema@.bracket(tiers, q * nk) END;
    ELSE
        j := CASE WHEN tiers IS NULL THEN 1 ELSE @extschema@.bracket(tiers, a.notional) END;
    END IF;

    IF method = 'fraction' THEN
        -- Hyperliquid: positions above the threshold lose a fraction per step;
        -- the backstop (equity below backstop_ratio x maintenance) and
        -- positions at or below the threshold are closed whole.
        IF a.notional <= (p->>'threshold')::numeric
           OR a.equity < (p->>'backstop_ratio')::numeric * a.maintenance_margin THEN
            RETURN q;
        END IF;
        RETURN least(q, @extschema@.lot_up(q * (p->>'fraction')::numeric, lot));
    END IF;

    IF method = 'tiers' THEN
        -- OKX: from bracket j > tiers_down, close down to the cap of bracket
        -- j - tiers_down; brackets up to tiers_down, and a position whose
        -- equity is below the first bracket's requirement, close whole.
        IF conv THEN
            cand := q * (nr * ((br->0->>'maintenanceMarginRate')::numeric + fin + c) + g);
        ELSE
            cand := a.notional * ((br->0->>'maintenanceMarginRate')::numeric + fee_rate + c);
        END IF;
        IF j <= (p->>'tiers_down')::int OR a.equity <= cand THEN
            RETURN q;
        END IF;
        cap := (br->(j - 1 - (p->>'tiers_down')::int)->>'maxNotional')::numeric;
        IF conv THEN
            cand := cap / nk;
        ELSIF kind = 'inverse' THEN
            cand := cap * mark_price / contract_size;
        ELSE
            cand := cap / (contract_size * mark_price);
        END IF;
        RETURN least(q, @extschema@.lot_up(q - @extschema@.lot_down(cand, lot), lot));
    END IF;

    -- smallest: the largest rest q_r (the smallest close) with
    -- equity' > (1 + buffer) x maintenance', equity' = q_r/|q| x Q.
    -- Without a liquidity curve, within a bracket both sides are linear in
    -- q_r (the add-on c a constant), so each bracket from the current one
    -- down proposes its root; the exact check decides on the lot grid.
    IF liquidity_curve IS NULL THEN
        FOR i IN REVERSE j .. 1 LOOP
            alpha := a.equity / q
                     - (1 + buf) * (nr * ((br->(i - 1)->>'maintenanceMarginRate')::numeric + fin + c) + g);
            beta := (1 + buf) * (br->(i - 1)->>'maintenanceAmount')::numeric;
            lo := (br->(i - 1)->>'minNotional')::numeric / nk;
            hi := least(q, (br->(i - 1)->>'maxNotional')::numeric / nk);
            cand := hi;
            IF alpha < 0 THEN
                cand := least(hi, -beta / alpha);
            END IF;
            CONTINUE WHEN cand <= lo OR cand <= 0;
            k := greatest(lot, @extschema@.lot_up(q - cand, lot));
            IF k > lot AND @extschema@.liquidation_rest_ok(size, entry_price, mark_price, margin, k - lot,
                               mmr, tiers, contract_size, kind, fee_rate, lf, buf, addon_rate, NULL,
                               margin_call_ratio, mm_basis, fee_basis, tier_basis, bracket_basis,
                               maintenance_amount) THEN
                k := k - lot;
            END IF;
            FOR t IN 1 .. 3 LOOP
                EXIT WHEN k >= q;
                IF @extschema@.liquidation_rest_ok(size, entry_price, mark_price, margin, k,
                       mmr, tiers, contract_size, kind, fee_rate, lf, buf, addon_rate, NULL,
                       margin_call_ratio, mm_basis, fee_basis, tier_basis, bracket_basis,
                       maintenance_amount) THEN
                    RETURN k;
                END IF;
                k := k + lot;
            END LOOP;
        END LOOP;
        -- Under a convention the closed form is a proposal that rounding
        -- (the rest's margin, the bankruptcy fee's price) or amounts that do
        -- not follow the derivation can miss: the search below decides.
        IF NOT conv THEN
            RETURN q;
        END IF;
    END IF;
    -- With a liquidity curve the rest's add-on falls with its size, so a
    -- close can help even at a flat rate: the smallest close is searched for
    -- by halves on the lot grid.  A larger close leaves a rest with the same
    -- equity per contract and a requirement per contract no higher (the
    -- brackets' rates and the curve's rate do not fall with the size), so the
    -- closes that leave a healthy rest are all those from the smallest up;
    -- where that does not hold, every close returned is still one the exact
    -- check accepted.
    k := @extschema@.lot_up(q, lot) - lot;     -- the largest close below q
    IF k <= 0 OR NOT @extschema@.liquidation_rest_ok(size, entry_price, mark_price, margin, k,
                         mmr, tiers, contract_size, kind, fee_rate, lf, buf,
                         addon_rate, liquidity_curve, margin_call_ratio, mm_basis, fee_basis,
                         tier_basis, bracket_basis, maintenance_amount) THEN
        RETURN q;
    END IF;
    lo_k := 0;
    LOOP
        cand := greatest(lo_k + lot, @extschema@.lot_down((lo_k + k) / 2, lot));
        EXIT WHEN cand >= k;
        IF @extschema@.liquidation_rest_ok(size, entry_price, mark_price, margin, cand,
               mmr, tiers, contract_size, kind, fee_rate, lf, buf,
               addon_rate, liquidity_curve, margin_call_ratio, mm_basis, fee_basis,
               tier_basis, bracket_basis, maintenance_amount) THEN
            k := cand;
        ELSE
            lo_k := cand;
        END IF;
    END LOOP;
    RETURN k;
END
$fn$;

-- Whether closing k leaves a rest with equity > (1 + buffer) x maintenance
-- (and not flagged), by the exact figures, with the rest's own add-on, at
-- the attachment's margin_call_ratio, under the instrument's conventions.
CREATE FUNCTION @extschema@.liquidation_rest_ok(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, k numeric,
    mmr numeric, tiers @extschema@.tiers, contract_size numeric,
    kind @extschema@.contract_kind, fee_rate numeric, liquidation_fee_rate numeric, buffer numeric,
    addon_rate numeric, liquidity_curve jsonb, margin_call_ratio numeric,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price',
    maintenance_amount numeric DEFAULT 0)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s @extschema@.liquidation_settlement;
    a @extschema@.assessment;
    c numeric := addon_rate;
BEGIN
    s := @extschema@.liquidation_settlement(size, entry_price, margin, k, mark_price, contract_size,
                                            kind, liquidation_fee_rate);
    IF liquidity_curve IS NOT NULL THEN
        c := c + @extschema@.liquidity_curve_addon(liquidity_curve, s.size);
    END IF;
    a := @extschema@.assess_rule(s.size, s.entry_price, mark_price, s.margin, mmr, tiers,
                                 contract_size, kind, fee_rate, c, margin_call_ratio,
                                 mm_basis, fee_basis, tier_basis, bracket_basis, maintenance_amount);
    RETURN a.status < 'liquidate' AND a.equity > (1 + buffer) * a.maintenance_margin;
END
$fn$;

-- The add-on of liquidation_size, checked (the worker reads what enforcement
-- checked): addon_rate >= 0 and a curve of the position's kind, or 22023.
CREATE FUNCTION @extschema@.liquidation_addon_check(
    addon_rate numeric, liquidity_curve jsonb, kind @extschema@.contract_kind)
RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF addon_rate < 0 THEN
        RAISE EXCEPTION 'addon_rate must not be negative'
            USING ERRCODE = '22023', DETAIL = format('The value is %s.', addon_rate);
    END IF;
    IF liquidity_curve IS NOT NULL AND liquidity_curve->>'kind' IS DISTINCT FROM kind::text THEN
        RAISE EXCEPTION 'liquidity_curve is not a liquidity curve of the position''s kind'
            USING ERRCODE = '22023',
                  DETAIL = format('The position is %s and the curve %s.', kind,
                                  coalesce(liquidity_curve->>'kind', 'of no kind')),
                  HINT = 'Build the curve with the instrument''s kind.';
    END IF;
    RETURN addon_rate;
END
$fn$;

-- With the dynamic add-ons enforcement charges (doc/liquidation.md, "With
-- dynamic add-ons"): the instrument's addon_rate, and its liquidity curve
-- (NULL: none); and with the instrument's venue conventions (doc/venues.md).
-- Not STRICT for that one NULL; any other NULL gives NULL.
CREATE FUNCTION @extschema@.liquidation_size(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    policy jsonb DEFAULT '{"method": "whole"}',
    addon_rate numeric DEFAULT 0,
    liquidity_curve jsonb DEFAULT NULL,
    margin_call_ratio numeric DEFAULT 0.8,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    maintenance_amount numeric DEFAULT 0)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
SELECT CASE WHEN $1 IS NULL OR $2 IS NULL OR $3 IS NULL OR $4 IS NULL OR $5 IS NULL OR $6 IS NULL
                 OR $7 IS NULL OR $8 IS NULL OR $9 IS NULL OR $10 IS NULL OR $12 IS NULL
                 OR $13 IS NULL OR $14 IS NULL OR $15 IS NULL THEN NULL
            ELSE @extschema@.liquidation_size_rule($1, $2, $3, $4, $5, NULL, $6, $7, $8,
                     @extschema@.liquidation_policy_check($9),
                     @extschema@.liquidation_addon_check($10, $11, $7), $11, $12,
                     mm_basis => $13, fee_basis => $14, maintenance_amount => $15) END
$fn$;

CREATE FUNCTION @extschema@.liquidation_size(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, tiers @extschema@.tiers,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear',
    fee_rate numeric DEFAULT 0,
    policy jsonb DEFAULT '{"method": "whole"}',
    addon_rate numeric DEFAULT 0,
    liquidity_curve jsonb DEFAULT NULL,
    margin_call_ratio numeric DEFAULT 0.8,
    mm_basis @extschema@.mm_basis DEFAULT 'mark',
    fee_basis @extschema@.fee_basis DEFAULT 'mark',
    tier_basis @extschema@.tier_basis DEFAULT 'notional',
    bracket_basis @extschema@.bracket_basis DEFAULT 'price')
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
SELECT CASE WHEN $1 IS NULL OR $2 IS NULL OR $3 IS NULL OR $4 IS NULL OR $5 IS NULL OR $6 IS NULL
                 OR $7 IS NULL OR $8 IS NULL OR $9 IS NULL OR $10 IS NULL OR $12 IS NULL
                 OR $13 IS NULL OR $14 IS NULL OR $15 IS NULL OR $16 IS NULL THEN NULL
            ELSE @extschema@.liquidation_size_rule($1, $2, $3, $4, NULL, $5, $6, $7, $8,
                     @extschema@.liquidation_policy_check($9),
                     @extschema@.liquidation_addon_check($10, $11, $7), $11, $12,
                     mm_basis => $13, fee_basis => $14, tier_basis => $15, bracket_basis => $16) END
$fn$;

-- ---------------------------------------------------------------- item 4: ADL ranking

-- Profit percentage (return on equity, U/M) times effective leverage (N/Q)
-- for a position in profit, the plain profit percentage (<= 0) otherwise:
-- ordered DESC, the most profitable, most leveraged first, losers last.
CREATE FUNCTION @extschema@.adl_rank(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
SELECT CASE WHEN r OPERATOR(pg_catalog.>) 0
            THEN r OPERATOR(pg_catalog.*) @extschema@.effective_leverage($1, $2, $3, $4, $5, $6)
            ELSE r END
  FROM (SELECT @extschema@.return_on_equity($1, $2, $3, $4, $5, $6) AS r) AS x
$fn$;

CREATE FUNCTION @extschema@.adl_profit_rank(
    size numeric, entry_price numeric, mark_price numeric, margin numeric,
    contract_size numeric DEFAULT 1,
    kind @extschema@.contract_kind DEFAULT 'linear')
RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
SELECT @extschema@.return_on_equity($1, $2, $3, $4, $5, $6)
$fn$;

-- ---------------------------------------------------------------- item 3: the insurance fund

-- Which attachments are liquidated, by which policy (per symbol overrides),
-- and which instruments column names a position's fund (its settlement
-- currency); without one, each symbol has its own fund.
CREATE TABLE @extschema@.liquidation_settings (
    positions       pg_catalog.regclass PRIMARY KEY,
    policy          pg_catalog.jsonb NOT NULL DEFAULT '{"method": "whole"}',
    symbol_policies pg_catalog.jsonb NOT NULL DEFAULT '{}',
    fund_column     pg_catalog.text
);
COMMENT ON TABLE @extschema@.liquidation_settings IS
    'isomargin liquidation: the policy of each liquidated positions table (isomargin.liquidation_setup)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.liquidation_settings', '');

CREATE TABLE @extschema@.insurance_funds (
    positions pg_catalog.regclass NOT NULL,
    fund      pg_catalog.text NOT NULL,
    balance   pg_catalog.numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (positions, fund)
);
COMMENT ON TABLE @extschema@.insurance_funds IS
    'isomargin liquidation: each insurance fund''s balance, always the sum of its ledger rows';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.insurance_funds', '');

CREATE SEQUENCE @extschema@.insurance_ledger_id_seq AS pg_catalog.int8;
CREATE TABLE @extschema@.insurance_ledger (
    id               pg_catalog.int8 NOT NULL
                     DEFAULT pg_catalog.nextval('@extschema@.insurance_ledger_id_seq'::pg_catalog.regclass) PRIMARY KEY,
    positions        pg_catalog.regclass NOT NULL,
    fund             pg_catalog.text NOT NULL,
    entry            pg_catalog.text NOT NULL CHECK (entry IN ('deposit', 'liquidation')),
    amount           pg_catalog.numeric NOT NULL,    -- the fund's change: settlement + liquidation_fee
    symbol           pg_catalog.text,
    position_key     pg_catalog.jsonb,
    event_id         pg_catalog.int8,
    worker           pg_catalog.text,
    method           pg_catalog.text,
    mark_price       pg_catalog.numeric,             -- the fill price
    size_before      pg_catalog.numeric,
    entry_price      pg_catalog.numeric,
    margin_before    pg_catalog.numeric,
    closed_size      pg_catalog.numeric,
    bankruptcy_price pg_catalog.numeric,
    released_margin  pg_catalog.numeric,
    realized_pnl     pg_catalog.numeric,
    settlement       pg_catalog.numeric,             -- released + PnL at the fill; 0 when ADL took the close
    liquidation_fee  pg_catalog.numeric,
    adl_size         pg_catalog.numeric NOT NULL DEFAULT 0,
    shortfall        pg_catalog.numeric NOT NULL DEFAULT 0,
    size_after       pg_catalog.numeric,
    margin_after     pg_catalog.numeric,
    created_at       pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX insurance_ledger_position ON @extschema@.insurance_ledger (positions, position_key, id);
COMMENT ON TABLE @extschema@.insurance_ledger IS
    'isomargin liquidation: the insurance funds'' append-only ledger, one row per liquidation step or deposit';
ALTER SEQUENCE @extschema@.insurance_ledger_id_seq OWNED BY @extschema@.insurance_ledger.id;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.insurance_ledger', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.insurance_ledger_id_seq', '');

CREATE FUNCTION @extschema@.insurance_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION 'isomargin.insurance_ledger is append-only'
        USING ERRCODE = '55000', HINT = 'Correct a row with a new deposit row.';
END
$fn$;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON @extschema@.insurance_ledger
    FOR EACH ROW EXECUTE FUNCTION @extschema@.insurance_ledger_append_only();

-- Shortfalls the fund could not cover: the closed contracts go to the
-- opposite side's top-ranked positions at the bankruptcy price.
CREATE SEQUENCE @extschema@.adl_queue_id_seq AS pg_catalog.int8;
CREATE TABLE @extschema@.adl_queue (
    id            pg_catalog.int8 NOT NULL
                     DEFAULT pg_catalog.nextval('@extschema@.adl_queue_id_seq'::pg_catalog.regclass) PRIMARY KEY,
    ledger_id     pg_catalog.int8 NOT NULL,             -- insurance_ledger.id (no foreign key: the ledger is append-only)
    positions     pg_catalog.regclass NOT NULL,
    symbol        pg_catalog.text NOT NULL,
    side          @extschema@.position_side NOT NULL,   -- the side that is deleveraged
    size          pg_catalog.numeric NOT NULL,
    price         pg_catalog.numeric NOT NULL,           -- the liquidated position's bankruptcy price
    shortfall     pg_catalog.numeric NOT NULL,
    assigned_size pg_catalog.numeric NOT NULL DEFAULT 0,
    assigned_at   pg_catalog.timestamptz,
    created_at    pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.adl_queue IS
    'isomargin liquidation: shortfalls queued for auto-deleveraging';
ALTER SEQUENCE @extschema@.adl_queue_id_seq OWNED BY @extschema@.adl_queue.id;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.adl_queue', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.adl_queue_id_seq', '');

CREATE SEQUENCE @extschema@.adl_fills_id_seq AS pg_catalog.int8;
CREATE TABLE @extschema@.adl_fills (
    id              pg_catalog.int8 NOT NULL
                     DEFAULT pg_catalog.nextval('@extschema@.adl_fills_id_seq'::pg_catalog.regclass) PRIMARY KEY,
    queue_id        pg_catalog.int8 NOT NULL,   -- adl_queue.id
    position_key    pg_catalog.jsonb NOT NULL,
    rank            pg_catalog.numeric,
    closed_size     pg_catalog.numeric NOT NULL,
    price           pg_catalog.numeric NOT NULL,
    released_margin pg_catalog.numeric NOT NULL,
    realized_pnl    pg_catalog.numeric NOT NULL,
    cash            pg_catalog.numeric NOT NULL,
    size_after      pg_catalog.numeric NOT NULL,
    margin_after    pg_catalog.numeric NOT NULL,
    created_at      pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.adl_fills IS
    'isomargin liquidation: each position reduced by auto-deleveraging';
ALTER SEQUENCE @extschema@.adl_fills_id_seq OWNED BY @extschema@.adl_fills.id;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.adl_fills', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.adl_fills_id_seq', '');

-- Positions left flagged during a policy's cooldown, due again at due_at:
-- the worker's own follow-ups, kept out of the events table.
CREATE TABLE @extschema@.liquidation_followups (
    positions    pg_catalog.regclass NOT NULL,
    position_key pg_catalog.jsonb NOT NULL,
    due_at       pg_catalog.timestamptz NOT NULL,
    PRIMARY KEY (positions, position_key)
);
CREATE INDEX liquidation_followups_due ON @extschema@.liquidation_followups (due_at);
COMMENT ON TABLE @extschema@.liquidation_followups IS
    'isomargin liquidation: positions a worker comes back to after a policy''s cooldown';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.liquidation_followups', '');

-- Attaching the engine to an enforced positions table.
CREATE FUNCTION @extschema@.liquidation_setup(
    positions regclass, policy jsonb DEFAULT '{"method": "whole"}',
    symbol_policies jsonb DEFAULT '{}', fund_column text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    k text;
    v jsonb;
BEGIN
    IF positions IS NULL OR policy IS NULL OR symbol_policies IS NULL THEN
        RAISE EXCEPTION 'positions, policy and symbol_policies must not be null' USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.enforcement e WHERE e.positions = liquidation_setup.positions) THEN
        RAISE EXCEPTION 'table "%" is not enforced', positions
            USING ERRCODE = '22023', HINT = 'Attach enforcement first: isomargin.enforce(positions, marks, instruments).';
    END IF;
    PERFORM @extschema@.liquidation_policy_check(policy);
    IF jsonb_typeof(symbol_policies) <> 'object' THEN
        RAISE EXCEPTION 'symbol_policies must be a JSON object' USING ERRCODE = '22023';
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(symbol_policies) LOOP
        PERFORM @extschema@.liquidation_policy_check(v);
    END LOOP;
    INSERT INTO @extschema@.liquidation_settings AS s (positions, policy, symbol_policies, fund_column)
    VALUES (liquidation_setup.positions, liquidation_setup.policy, liquidation_setup.symbol_policies,
            liquidation_setup.fund_column)
    ON CONFLICT ON CONSTRAINT liquidation_settings_pkey DO UPDATE
       SET policy = EXCLUDED.policy, symbol_policies = EXCLUDED.symbol_policies,
           fund_column = EXCLUDED.fund_column;
END
$fn$;

-- The one writer of the ledger: a row, and the fund's balance moved by its
-- amount, in the caller's transaction.  The fund's row is locked until then,
-- so balance = sum(amount) at every commit.
CREATE FUNCTION @extschema@.insurance_append(row_in @extschema@.insurance_ledger)
RETURNS pg_catalog.int8
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    new_id int8;
BEGIN
    INSERT INTO @extschema@.insurance_ledger (positions, fund, entry, amount, symbol, position_key,
        event_id, worker, method, mark_price, size_before, entry_price, margin_before, closed_size,
        bankruptcy_price, released_margin, realized_pnl, settlement, liquidation_fee, adl_size,
        shortfall, size_after, margin_after)
    SELECT r.positions, r.fund, r.entry, r.amount, r.symbol, r.position_key, r.event_id, r.worker,
           r.method, r.mark_price, r.size_before, r.entry_price, r.margin_before, r.closed_size,
           r.bankruptcy_price, r.released_margin, r.realized_pnl, r.settlement, r.liquidation_fee,
           coalesce(r.adl_size, 0), coalesce(r.shortfall, 0), r.size_after, r.margin_after
      FROM (SELECT row_in.*) AS r
    RETURNING insurance_ledger.id INTO new_id;
    INSERT INTO @extschema@.insurance_funds AS f (positions, fund, balance)
    VALUES (row_in.positions, row_in.fund, row_in.amount)
    ON CONFLICT (positions, fund) DO UPDATE SET balance = f.balance + EXCLUDED.balance;
    RETURN new_id;
END
$fn$;

CREATE FUNCTION @extschema@.insurance_deposit(positions regclass, fund text, amount numeric)
RETURNS pg_catalog.int8
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.insurance_ledger;
BEGIN
    r.positions := positions;
    r.fund := fund;
    r.entry := 'deposit';
    r.amount := amount;
    RETURN @extschema@.insurance_append(r);
END
$fn$;

CREATE VIEW @extschema@.insurance_balances AS
SELECT l.positions, l.fund, pg_catalog.sum(l.amount) AS balance, pg_catalog.count(*) AS rows
  FROM @extschema@.insurance_ledger AS l
 GROUP BY l.positions, l.fund;
COMMENT ON VIEW @extschema@.insurance_balances IS
    'isomargin liquidation: each fund''s balance derived from its ledger rows';
