-- pg_temp.exact_assess: assess by the exact route (isomargin.fast_route off
-- for the call), with assess's arguments and defaults: the oracle of the
-- tests that compare the routes (loaded with \i from the top of the tree).
CREATE FUNCTION pg_temp.exact_assess(size numeric, entry_price numeric, mark_price numeric,
    margin numeric, mmr numeric, contract_size numeric DEFAULT 1,
    kind isomargin.contract_kind DEFAULT 'linear', fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8, tick_size numeric DEFAULT 0, leverage numeric DEFAULT NULL)
RETURNS isomargin.assessment LANGUAGE sql SET isomargin.fast_route = off
AS $$ SELECT isomargin.assess(size, entry_price, mark_price, margin, mmr, contract_size, kind,
                              fee_rate, margin_call_ratio, tick_size, leverage) $$;
CREATE FUNCTION pg_temp.exact_assess(size numeric, entry_price numeric, mark_price numeric,
    margin numeric, tiers isomargin.tiers, contract_size numeric DEFAULT 1,
    kind isomargin.contract_kind DEFAULT 'linear', fee_rate numeric DEFAULT 0,
    margin_call_ratio numeric DEFAULT 0.8, tick_size numeric DEFAULT 0, leverage numeric DEFAULT NULL)
RETURNS isomargin.assessment LANGUAGE sql SET isomargin.fast_route = off
AS $$ SELECT isomargin.assess(size, entry_price, mark_price, margin, tiers, contract_size, kind,
                              fee_rate, margin_call_ratio, tick_size, leverage) $$;
