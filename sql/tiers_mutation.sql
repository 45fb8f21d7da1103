-- Mutation test: thousands of malformed text literals and binary values fed
-- to isomargin.tiers.  Each must be accepted (and then round trip exactly)
-- or refused with 22P02 (text) or 22P03 (binary); nothing may crash.  The
-- mutations are random but deterministic (setseed), so the counts below are
-- stable; a crash, any other SQLSTATE or a broken round trip shows up as a
-- row of its own and in the verdict.
CREATE TEMP TABLE mutation_seeds (id int, lit text);
INSERT INTO mutation_seeds VALUES
    (1, '{0..10000 mmr=0.005 amount=0 max_leverage=100; 10000..100000 mmr=0.01 amount=50 max_leverage=50; 100000..500000 mmr=0.02 amount=1050 max_leverage=20; 500000..2000000 mmr=0.05 amount=16050 max_leverage=10; 2000000..10000000 mmr=0.1 amount=116050 max_leverage=5}'),
    (2, '{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50; 10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10}'),
    (3, '{0..12.5 mmr=0.0065 amount=0 max_leverage=75.5; 12.5..100.25 mmr=0.0065 amount=0 max_leverage=75.5; 100.25..1000 mmr=0.125 amount=11.879625 max_leverage=2.5}'),
    (4, '{0..0.000000000000000001 mmr=0.000000000000000001 amount=0 max_leverage=999999999999999999}'),
    (5, ' { 0 .. 1e4  MMR = 0.0050 max_leverage=1E2 }');
CREATE TEMP TABLE mutation_outcomes (form text, outcome text);
CREATE TEMP TABLE mutation_target (t isomargin.tiers);

-- Text: 1 to 3 edits of a valid literal (delete, insert, replace a
-- character, cut the end, splice in a piece of itself, change a digit).
DO $$
DECLARE
    seeds text[] := ARRAY(SELECT lit FROM mutation_seeds ORDER BY id);
    alphabet text := '0123456789..;{}= eE+-_mraxlvgount,é"';
    s text;
    n int;
    pos int;
    v isomargin.tiers;
    back text;
BEGIN
    PERFORM setseed(0.25);
    FOR i IN 1..10000 LOOP
        s := seeds[1 + floor(random() * array_length(seeds, 1))::int];
        FOR j IN 0..floor(random() * 3)::int LOOP
            n := length(s);
            pos := 1 + floor(random() * greatest(n, 1))::int;
            CASE floor(random() * 6)::int
                WHEN 0 THEN s := overlay(s PLACING '' FROM pos FOR 1);
                WHEN 1 THEN s := overlay(s PLACING substr(alphabet, 1 + floor(random() * length(alphabet))::int, 1) FROM pos FOR 0);
                WHEN 2 THEN s := overlay(s PLACING substr(alphabet, 1 + floor(random() * length(alphabet))::int, 1) FROM pos FOR 1);
                WHEN 3 THEN s := left(s, pos - 1);
                WHEN 4 THEN s := left(s, pos) || substr(s, 1 + floor(random() * greatest(n, 1))::int, 1 + floor(random() * 12)::int) || substr(s, pos + 1);
                ELSE
                    IF substr(s, pos, 1) BETWEEN '0' AND '9' THEN
                        s := overlay(s PLACING floor(random() * 10)::int::text FROM pos FOR 1);
                    END IF;
            END CASE;
        END LOOP;
        BEGIN
            v := s::isomargin.tiers;
            back := v::text;
            IF back::isomargin.tiers::text IS DISTINCT FROM back
               OR NOT back::isomargin.tiers OPERATOR(isomargin.=) v THEN
                INSERT INTO mutation_outcomes VALUES ('text', 'accepted, round trip broken: ' || s);
            ELSE
                INSERT INTO mutation_outcomes VALUES ('text', 'accepted');
            END IF;
        EXCEPTION WHEN OTHERS THEN
            INSERT INTO mutation_outcomes VALUES ('text', SQLSTATE);
        END;
    END LOOP;
END
$$;

-- Binary: 1 to 3 edits of a valid send form (overwrite, flip a bit, add or
-- subtract 1, cut the end, insert a zero byte, append a piece of itself,
-- set the low byte of the bracket count),
-- written as a one-column bytea row and read back with COPY into a tiers
-- column, so the bytes reach tiers_recv as a client's would.
-- Run in batches, one transaction each: a single transaction holding
-- thousands of COPY subtransactions slows down as it grows.
CREATE FUNCTION pg_temp.mutate_binary(seed float8, tries int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    seeds bytea[] := ARRAY(SELECT isomargin.tiers_send(lit::isomargin.tiers) FROM mutation_seeds ORDER BY id);
    path text := current_setting('data_directory') || '/isomargin_tiers_mutation.copy';
    b bytea;
    n int;
    pos int;
    v isomargin.tiers;
BEGIN
    PERFORM setseed(seed);
    FOR i IN 1..tries LOOP
        b := seeds[1 + floor(random() * array_length(seeds, 1))::int];
        FOR j IN 0..floor(random() * 3)::int LOOP
            n := length(b);
            EXIT WHEN n = 0;
            pos := floor(random() * n)::int;
            CASE floor(random() * 7)::int
                WHEN 6 THEN b := set_byte(b, least(2, n - 1), floor(random() * 70)::int);
                WHEN 0 THEN b := set_byte(b, pos, floor(random() * 256)::int);
                WHEN 1 THEN b := set_byte(b, pos, get_byte(b, pos) # (1 << floor(random() * 8)::int));
                WHEN 2 THEN b := set_byte(b, pos, (get_byte(b, pos) + CASE WHEN random() < 0.5 THEN 1 ELSE 255 END) % 256);
                WHEN 3 THEN b := substr(b, 1, pos);
                WHEN 4 THEN b := overlay(b PLACING '\x00'::bytea FROM pos + 1 FOR 0);
                ELSE b := b || substr(b, 1 + pos, 1 + floor(random() * 20)::int);
            END CASE;
        END LOOP;
        BEGIN
            EXECUTE format('COPY (SELECT %L::bytea) TO %L WITH (FORMAT binary)', b, path);
            EXECUTE format('COPY mutation_target FROM %L WITH (FORMAT binary)', path);
            SELECT t INTO v FROM mutation_target;
            DELETE FROM mutation_target;
            IF NOT v::text::isomargin.tiers OPERATOR(isomargin.=) v THEN
                INSERT INTO mutation_outcomes VALUES ('binary', 'accepted, round trip broken: ' || b::text);
            ELSE
                INSERT INTO mutation_outcomes VALUES ('binary', 'accepted');
            END IF;
        EXCEPTION WHEN OTHERS THEN
            INSERT INTO mutation_outcomes VALUES ('binary', SQLSTATE);
        END;
    END LOOP;
END
$$;
SELECT pg_temp.mutate_binary(0.75, 1000);
SELECT pg_temp.mutate_binary(0.5, 1000);
SELECT pg_temp.mutate_binary(0.25, 1000);
SELECT pg_temp.mutate_binary(0, 1000);
SELECT pg_temp.mutate_binary(-0.25, 1000);

SELECT form, outcome, count(*) FROM mutation_outcomes GROUP BY 1, 2 ORDER BY 1, 2;

-- The verdict: every value accounted for, nothing unexpected, and both
-- outcomes seen in each form (so the mutations do reach the checks).
SELECT count(*) AS values_tried,
       count(*) FILTER (WHERE NOT (outcome = 'accepted'
                                   OR (form = 'text' AND outcome = '22P02')
                                   OR (form = 'binary' AND outcome = '22P03'))) AS unexpected,
       bool_and(outcome IS NOT NULL) AS all_recorded
FROM mutation_outcomes;
SELECT form, count(*) FILTER (WHERE outcome = 'accepted') > 0 AS some_accepted,
       count(*) FILTER (WHERE outcome <> 'accepted') > 0 AS some_refused
FROM mutation_outcomes GROUP BY form ORDER BY form;
