-- isomargin.tiers: literals, the canonical form, every invariant with its
-- SQLSTATE, storage in a table, equality, and the binary form.
SET extra_float_digits = 0;

-- The type's functions and operators: arguments, volatility, strictness and
-- parallel safety are part of the interface.
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile AS vol, p.proisstrict AS strict, p.proparallel AS par, p.prosecdef AS secdef
FROM pg_proc p
WHERE p.pronamespace = 'isomargin'::regnamespace
  AND (p.proname LIKE 'tiers%' OR p.proname IN ('bracket', 'max_leverage', 'max_notional'))
ORDER BY 1, 2;
SELECT o.oprname, o.oprleft::regtype, o.oprright::regtype, o.oprcanhash AS hashes,
       o.oprcom::regoperator AS commutator, o.oprnegate::regoperator AS negator
FROM pg_operator o WHERE o.oprleft = 'isomargin.tiers'::regtype ORDER BY 1;

-- The illustrative schedules of the domain reference, amounts derived:
-- linear 0, 50, 1050, 16050, 116050; inverse 0, 0.025, 0.175, 0.675.
SELECT '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50;
         100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10;
         2000000..10000000 mmr=0.1 max_leverage=5}'::isomargin.tiers AS linear_schedule;
SELECT '{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50;
         10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10}'::isomargin.tiers AS inverse_schedule;

-- Amounts given (they must match), or given for some brackets only.
SELECT '{0..5 mmr=0.005 amount=0 max_leverage=100; 5..10 mmr=0.01 amount=0.025 max_leverage=50;
         10..20 mmr=0.025 amount=0.175 max_leverage=20; 20..50 mmr=0.05 amount=0.675 max_leverage=10}'::isomargin.tiers AS all_given;
SELECT '{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50 amount=0.025;
         10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10 amount=0.675}'::isomargin.tiers AS some_given;

-- Spellings that are not canonical: spaces, case, field order, trailing and
-- leading zeros, exponents.  Each prints in the canonical form.
SELECT '  {  0 .. 1e4   MAX_LEVERAGE = 100.0   Mmr=0.0050 ;10000.000..0100000 amount=50.00 mmr=1E-2 max_leverage=5e1 }  '::isomargin.tiers AS respelled;
SELECT '{0..0.000000000000000001 mmr=0.000000000000000001 max_leverage=999999999999999999}'::isomargin.tiers AS smallest;
SELECT '{0..999999999999999999 mmr=0.999999999999999999 max_leverage=1}'::isomargin.tiers AS largest;
SELECT '{0..1000000 mmr=0 max_leverage=0.5}'::isomargin.tiers AS zero_rate;

-- Canonical literals round trip exactly: out(in(x)) = x.
CREATE TEMP TABLE canonical (id int, lit text);
INSERT INTO canonical VALUES
    (1, '{0..10000 mmr=0.005 amount=0 max_leverage=100; 10000..100000 mmr=0.01 amount=50 max_leverage=50; 100000..500000 mmr=0.02 amount=1050 max_leverage=20; 500000..2000000 mmr=0.05 amount=16050 max_leverage=10; 2000000..10000000 mmr=0.1 amount=116050 max_leverage=5}'),
    (2, '{0..5 mmr=0.005 amount=0 max_leverage=100; 5..10 mmr=0.01 amount=0.025 max_leverage=50; 10..20 mmr=0.025 amount=0.175 max_leverage=20; 20..50 mmr=0.05 amount=0.675 max_leverage=10}'),
    (3, '{0..1 mmr=0 amount=0 max_leverage=1}'),
    (4, '{0..0.000000000000000001 mmr=0.000000000000000001 amount=0 max_leverage=999999999999999999}'),
    (5, '{0..999999999999999999 mmr=0.999999999999999999 amount=0 max_leverage=1}'),
    (6, '{0..12.5 mmr=0.0065 amount=0 max_leverage=75.5; 12.5..100.25 mmr=0.0065 amount=0 max_leverage=75.5; 100.25..1000 mmr=0.125 amount=11.879625 max_leverage=2.5}');
SELECT id, (lit::isomargin.tiers)::text = lit AS round_trips,
       (lit::isomargin.tiers)::text::isomargin.tiers OPERATOR(isomargin.=) lit::isomargin.tiers AS same_value
FROM canonical ORDER BY id;

-- 64 brackets is the most a schedule may have.
SELECT '{' || string_agg(format('%s..%s mmr=0.001 max_leverage=100', i - 1, i), '; ' ORDER BY i) || '}' AS lit64
FROM generate_series(1, 64) i \gset
SELECT (:'lit64'::isomargin.tiers)::text = replace(:'lit64', 'mmr=0.001', 'mmr=0.001 amount=0') AS sixty_four_brackets;

-- Every rule, broken: SQLSTATE and detail.
CREATE FUNCTION pg_temp.try_tiers(lit text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text;
    det text;
BEGIN
    RETURN lit::isomargin.tiers::text;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, det = PG_EXCEPTION_DETAIL;
    RETURN st || ' ' || det;
END
$$;

CREATE TEMP TABLE bad_literals (id int, what text, lit text);
INSERT INTO bad_literals VALUES
    (1,  'empty input',           ''),
    (2,  'no brace',              '0..10 mmr=0.01 max_leverage=10'),
    (3,  'no bracket',            '{}'),
    (4,  'no closing brace',      '{0..10 mmr=0.01 max_leverage=10'),
    (5,  'text after brace',      '{0..10 mmr=0.01 max_leverage=10} x'),
    (6,  'trailing semicolon',    '{0..10 mmr=0.01 max_leverage=10;}'),
    (7,  'comma separator',       '{0..10 mmr=0.01 max_leverage=10, 10..20 mmr=0.02 max_leverage=5}'),
    (8,  'no range',              '{mmr=0.01 max_leverage=10}'),
    (9,  'single dot',            '{0.10 mmr=0.01 max_leverage=10}'),
    (10, 'no cap',                '{0.. mmr=0.01 max_leverage=10}'),
    (11, 'negative floor',        '{-5..10 mmr=0.01 max_leverage=10}'),
    (12, 'point without digits',  '{0..10 mmr=.01 max_leverage=10}'),
    (13, 'no space before field', '{0..10mmr=0.01 max_leverage=10}'),
    (14, 'unknown field',         '{0..10 mmr=0.01 lev=10}'),
    (15, 'field twice',           '{0..10 mmr=0.01 mmr=0.01 max_leverage=10}'),
    (16, 'no equals sign',        '{0..10 mmr 0.01 max_leverage=10}'),
    (17, 'no mmr',                '{0..10 max_leverage=10}'),
    (18, 'no max_leverage',       '{0..10 mmr=0.01}'),
    (19, 'nineteen digits',       '{0..1000000000000000000 mmr=0.01 max_leverage=10}'),
    (20, 'nineteen decimals',     '{0..10 mmr=0.0000000000000000001 max_leverage=10}'),
    (21, 'huge exponent',         '{0..1e99999999999 mmr=0.01 max_leverage=10}'),
    (22, 'first floor not 0',     '{5..10 mmr=0.01 max_leverage=10}'),
    (23, 'gap',                   '{0..10 mmr=0.01 max_leverage=10; 11..20 mmr=0.02 max_leverage=5}'),
    (24, 'overlap',               '{0..10 mmr=0.01 max_leverage=10; 9..20 mmr=0.02 max_leverage=5}'),
    (25, 'empty bracket',         '{0..0 mmr=0.01 max_leverage=10}'),
    (26, 'cap below floor',       '{0..10 mmr=0.01 max_leverage=10; 10..5 mmr=0.02 max_leverage=5}'),
    (27, 'mmr 1',                 '{0..10 mmr=1 max_leverage=0.5}'),
    (28, 'mmr decreasing',        '{0..10 mmr=0.02 max_leverage=10; 10..20 mmr=0.01 max_leverage=5}'),
    (29, 'amount of bracket 1',   '{0..10 mmr=0.01 amount=1 max_leverage=10}'),
    (30, 'amount mismatch',       '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 amount=49.99 max_leverage=50}'),
    (31, 'amount too precise',    '{0..0.5 mmr=0 max_leverage=1; 0.5..1 mmr=0.000000000000000001 max_leverage=1}'),
    (32, 'max_leverage 0',        '{0..10 mmr=0.01 max_leverage=0}'),
    (33, 'max_leverage rising',   '{0..10 mmr=0.01 max_leverage=10; 10..20 mmr=0.02 max_leverage=20}'),
    (34, 'mmr * leverage = 1',    '{0..10 mmr=0.02 max_leverage=50}'),
    (35, 'json given as text',    '[{"minNotional": 0}]');
SELECT id, what, pg_temp.try_tiers(lit) AS result FROM bad_literals ORDER BY id;

-- 65 brackets.
SELECT pg_temp.try_tiers('{' || string_agg(format('%s..%s mmr=0.001 max_leverage=100', i - 1, i), '; ') || '}') AS sixty_five
FROM generate_series(1, 65) i;

-- The whole error, as a client sees it (message, detail, hint).
SELECT '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 amount=40 max_leverage=50}'::isomargin.tiers;
SELECT '{"brackets": []}'::isomargin.tiers;
SELECT '{0..10 mmr=0.01 max_leverage=10; 10..20 mmr=0.02 max_leverage=5; 20..30 mmr=0.03 max_leverage=2 amount=0.1; 30..40 xmr=1}'::isomargin.tiers;

-- A table column: store, read back, compare, group (hash opclass).
CREATE TEMP TABLE schedules (id int PRIMARY KEY, t isomargin.tiers NOT NULL);
INSERT INTO schedules SELECT id, lit::isomargin.tiers FROM canonical;
INSERT INTO schedules VALUES (7, '{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.010 max_leverage=50; 10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10}');
INSERT INTO schedules VALUES (8, :'lit64');
SELECT id, t FROM schedules WHERE id <> 8 ORDER BY id;
SELECT s.id, c.id AS canonical_id FROM schedules s JOIN canonical c ON s.t OPERATOR(isomargin.=) c.lit::isomargin.tiers ORDER BY 1;
SELECT a.id, b.id FROM schedules a, schedules b WHERE a.id < b.id AND a.t OPERATOR(isomargin.<>) b.t IS NOT TRUE ORDER BY 1, 2;
SELECT (SELECT count(*) FROM schedules) AS schedules, (SELECT count(*) FROM (SELECT DISTINCT t FROM schedules) d) AS distinct_schedules;
SELECT min(id) AS first_id, count(*) FROM schedules GROUP BY t HAVING count(*) > 1;
SELECT (SELECT t FROM schedules WHERE id = 8)::text = replace(:'lit64', 'mmr=0.001', 'mmr=0.001 amount=0') AS stored_64;
-- On disk: a 1-byte header, the bracket count (4 bytes), 48 bytes a bracket;
-- the 64-bracket value (3080 bytes in memory) is stored compressed.
SELECT pg_column_size(t) AS one_bracket_bytes FROM schedules WHERE id = 3;
SELECT pg_column_size(t) < 3080 AS sixty_four_compressed FROM schedules WHERE id = 8;

-- The binary form, byte by byte: version 1, 1 bracket, then floor 0,
-- cap 10000 (0x2710), mmr 5 * 10^-3, amount 0, max_leverage 100 (0x64),
-- each an int64 coefficient and an int16 scale.
SELECT isomargin.tiers_send('{0..10000 mmr=0.005 max_leverage=100}');

-- Binary round trip through COPY (the server's file, in its data directory).
SELECT current_setting('data_directory') || '/isomargin_tiers_type.copy' AS copyfile \gset
COPY schedules TO :'copyfile' WITH (FORMAT binary);
CREATE TEMP TABLE schedules_back (LIKE schedules);
COPY schedules_back FROM :'copyfile' WITH (FORMAT binary);
SELECT count(*) AS rows_back,
       count(*) FILTER (WHERE s.t OPERATOR(isomargin.=) b.t AND s.t::text = b.t::text) AS identical
FROM schedules s JOIN schedules_back b USING (id);

-- Binary values that break the rules get 22P03.  Each is written as a
-- one-column bytea row and read back into a tiers column, so the bytes
-- reach tiers_recv exactly as a client would send them.
CREATE TEMP TABLE recv_target (t isomargin.tiers);
CREATE FUNCTION pg_temp.try_binary(b bytea, path text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text;
    det text;
    r text;
BEGIN
    EXECUTE format('COPY (SELECT %L::bytea) TO %L WITH (FORMAT binary)', b, path);
    EXECUTE format('COPY recv_target FROM %L WITH (FORMAT binary)', path);
    SELECT t::text INTO r FROM recv_target;
    DELETE FROM recv_target;
    RETURN r;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, det = PG_EXCEPTION_DETAIL;
    RETURN st || ' ' || det;
END
$$;

-- A bracket: floor, cap, mmr, amount, max_leverage as (coefficient, scale).
CREATE FUNCTION pg_temp.bin_bracket(VARIADIC v bigint[]) RETURNS bytea LANGUAGE sql AS $$
    SELECT string_agg(int8send(v[2 * i - 1]) || substr(int2send(v[2 * i]::int2), 1, 2), ''::bytea ORDER BY i)
    FROM generate_series(1, 5) i
$$;
SELECT pg_temp.bin_bracket(0, 0, 10000, 0, 5, 3, 0, 0, 100, 0) AS b1,
       pg_temp.bin_bracket(10000, 0, 100000, 0, 1, 2, 50, 0, 50, 0) AS b2 \gset

CREATE TEMP TABLE bad_binary (id int, what text, b bytea);
INSERT INTO bad_binary VALUES
    (1,  'valid, one bracket',     '\x01'::bytea || '\x0001'::bytea || :'b1'::bytea),
    (2,  'valid, two brackets',    '\x01'::bytea || '\x0002'::bytea || :'b1'::bytea || :'b2'::bytea),
    (3,  'not normalized',         '\x01'::bytea || '\x0001'::bytea ||
                                   pg_temp.bin_bracket(0, 2, 1000000, 2, 50, 4, 0, 5, 10000, 2)),
    (4,  'empty',                  ''::bytea),
    (5,  'version 2',              '\x02'::bytea || '\x0001'::bytea || :'b1'::bytea),
    (6,  'no count',               '\x01'::bytea),
    (7,  'zero brackets',          '\x01'::bytea || '\x0000'::bytea),
    (8,  '65 brackets',            '\x01'::bytea || '\x0041'::bytea || :'b1'::bytea),
    (9,  'negative count',         '\x01'::bytea || '\xffff'::bytea || :'b1'::bytea),
    (10, 'truncated bracket',      '\x01'::bytea || '\x0001'::bytea || substr(:'b1'::bytea, 1, 49)),
    (11, 'second bracket missing', '\x01'::bytea || '\x0002'::bytea || :'b1'::bytea),
    (12, 'one byte left over',     '\x01'::bytea || '\x0001'::bytea || :'b1'::bytea || '\x00'::bytea),
    (13, 'scale 19',               '\x01'::bytea || '\x0001'::bytea || pg_temp.bin_bracket(0, 0, 10000, 0, 5, 19, 0, 0, 100, 0)),
    (14, 'negative scale',         '\x01'::bytea || '\x0001'::bytea || pg_temp.bin_bracket(0, 0, 10000, 0, 5, -1, 0, 0, 100, 0)),
    (15, 'coefficient 10^18',      '\x01'::bytea || '\x0001'::bytea || pg_temp.bin_bracket(0, 0, 1000000000000000000, 0, 5, 3, 0, 0, 100, 0)),
    (16, 'negative mmr',           '\x01'::bytea || '\x0001'::bytea || pg_temp.bin_bracket(0, 0, 10000, 0, -5, 3, 0, 0, 100, 0)),
    (17, 'negative leverage',      '\x01'::bytea || '\x0001'::bytea || pg_temp.bin_bracket(0, 0, 10000, 0, 5, 3, 0, 0, -100, 0)),
    (18, 'amount of bracket 1',    '\x01'::bytea || '\x0001'::bytea || pg_temp.bin_bracket(0, 0, 10000, 0, 5, 3, 1, 0, 100, 0)),
    (19, 'amount mismatch',        '\x01'::bytea || '\x0002'::bytea || :'b1'::bytea ||
                                   pg_temp.bin_bracket(10000, 0, 100000, 0, 1, 2, 51, 0, 50, 0)),
    (20, 'gap',                    '\x01'::bytea || '\x0002'::bytea || :'b1'::bytea ||
                                   pg_temp.bin_bracket(10001, 0, 100000, 0, 1, 2, 50, 0, 50, 0)),
    (21, 'mmr 1',                  '\x01'::bytea || '\x0001'::bytea || pg_temp.bin_bracket(0, 0, 10000, 0, 1, 0, 0, 0, 1, 1));
SELECT id, what, pg_temp.try_binary(b, :'copyfile') AS result FROM bad_binary ORDER BY id;
