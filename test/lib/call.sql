-- pg_temp.call(fn, args, set): the text of a call of isomargin.fn with its
-- arguments `args` in named notation, each the valid value of table `good`
-- (arg, val), which the test creates first, unless `set` maps it to another
-- value (a JSON null is SQL NULL); kind is cast to isomargin.contract_kind,
-- a convention to its enum type, every other argument to numeric.  For the tests that try every bad value
-- of every argument (loaded with \i from the top of the tree).
CREATE FUNCTION pg_temp.call(fn text, args text[], set jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('SELECT isomargin.%I(%s)::text', fn,
                  string_agg(format('%I => %s::%s', a,
                                    CASE WHEN set ? a THEN coalesce(quote_literal(set ->> a), 'NULL')
                                         ELSE quote_literal(g.val) END,
                                    CASE WHEN a = 'kind' THEN 'isomargin.contract_kind'
                                         WHEN a IN ('mm_basis', 'fee_basis', 'tier_basis', 'bracket_basis')
                                         THEN 'isomargin.' || a ELSE 'numeric' END),
                             ', ' ORDER BY n))
    FROM unnest(args) WITH ORDINALITY u(a, n) JOIN good g ON g.arg = u.a
$$;
