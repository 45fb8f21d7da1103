-- The last test: dropping the extension leaves nothing behind.  The schema
-- itself is made by CREATE EXTENSION from the control file and is not a
-- member of the extension, so it stays; it must be empty, which DROP SCHEMA
-- (RESTRICT) proves.
DROP EXTENSION isomargin CASCADE;
SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'isomargin'::regnamespace) AS relations,
       (SELECT count(*) FROM pg_proc WHERE pronamespace = 'isomargin'::regnamespace
                                        OR probin LIKE '%isomargin%') AS functions,
       (SELECT count(*) FROM pg_type WHERE typnamespace = 'isomargin'::regnamespace) AS types,
       (SELECT count(*) FROM pg_operator WHERE oprnamespace = 'isomargin'::regnamespace) AS operators;
DROP SCHEMA isomargin RESTRICT;
SELECT count(*) AS leftover_schema FROM pg_namespace WHERE nspname = 'isomargin';
