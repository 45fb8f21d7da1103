-- Upgrades: every released version, updated step by step to the current one,
-- has the catalog of a fresh install of the current one (functions with
-- their bodies, settings and grants; tables with their columns, defaults,
-- constraints and indexes; types; casts; operators; comments; what pg_dump
-- keeps), and an enforced book keeps being enforced across the update.
-- Runs after zz_drop, on an empty database, and leaves it empty.
\set SHOW_CONTEXT never
CREATE TEMP TABLE catalog_of (install text, item text);
CREATE TEMP VIEW extension_catalog AS
SELECT pg_catalog.pg_describe_object(d.classid, d.objid, 0) || coalesce(': ' || (
         CASE d.classid
           WHEN 'pg_catalog.pg_proc'::regclass THEN
             (SELECT pg_catalog.pg_get_functiondef(p.oid) || ' acl ' || coalesce(p.proacl::text, '-')
                FROM pg_catalog.pg_proc p WHERE p.oid = d.objid AND p.prokind <> 'a')
           WHEN 'pg_catalog.pg_class'::regclass THEN
             (SELECT r.relkind::text || ' acl ' || coalesce(r.relacl::text, '-') || ' columns ' ||
                     coalesce((SELECT pg_catalog.string_agg(a.attname || ' ' ||
                                 pg_catalog.format_type(a.atttypid, a.atttypmod) ||
                                 CASE WHEN a.attnotnull THEN ' not null' ELSE '' END ||
                                 coalesce(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), ''),
                                 ', ' ORDER BY a.attnum)
                                 FROM pg_catalog.pg_attribute a
                                 LEFT JOIN pg_catalog.pg_attrdef ad
                                   ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                                WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped), '') ||
                     ' constraints ' ||
                     coalesce((SELECT pg_catalog.string_agg(c.conname || ' ' || pg_catalog.pg_get_constraintdef(c.oid),
                                                            ', ' ORDER BY c.conname)
                                 FROM pg_catalog.pg_constraint c WHERE c.conrelid = r.oid), '') ||
                     ' indexes ' ||
                     coalesce((SELECT pg_catalog.string_agg(pg_catalog.pg_get_indexdef(i.indexrelid), ', '
                                                            ORDER BY 1)
                                 FROM pg_catalog.pg_index i WHERE i.indrelid = r.oid), '')
                FROM pg_catalog.pg_class r WHERE r.oid = d.objid)
           WHEN 'pg_catalog.pg_type'::regclass THEN
             (SELECT t.typtype::text || ' acl ' || coalesce(t.typacl::text, '-') ||
                     coalesce(' labels ' || (SELECT pg_catalog.string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                               FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid), '')
                FROM pg_catalog.pg_type t WHERE t.oid = d.objid)
           WHEN 'pg_catalog.pg_operator'::regclass THEN
             (SELECT o.oprcode::text FROM pg_catalog.pg_operator o WHERE o.oid = d.objid)
           WHEN 'pg_catalog.pg_cast'::regclass THEN
             (SELECT c.castfunc::regprocedure::text || ' ' || c.castcontext::text
                FROM pg_catalog.pg_cast c WHERE c.oid = d.objid)
         END), '') ||
       coalesce(' comment ' || pg_catalog.obj_description(d.objid, d.classid::regclass::name), '') AS item
  FROM pg_catalog.pg_depend d
 WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT x.oid FROM pg_catalog.pg_extension x WHERE x.extname = 'isomargin')
UNION ALL
SELECT 'config dump ' || pg_catalog.string_agg(c::regclass::text || ' ' || coalesce(f, '-'), ', ' ORDER BY c::regclass::text)
  FROM pg_catalog.pg_extension x, ROWS FROM (pg_catalog.unnest(x.extconfig), pg_catalog.unnest(x.extcondition)) AS u(c, f)
 WHERE x.extname = 'isomargin';

-- 0.1.0, with an enforced book, updated to the current version.
CREATE EXTENSION isomargin VERSION '0.1.0';
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments VALUES ('BTC', 0.004);
INSERT INTO marks VALUES ('BTC', 30000);
INSERT INTO positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'BTC', -1, 30000, 3000);
SELECT isomargin.enforce('positions', 'marks', 'instruments') ->> 'id' AS id;
ALTER EXTENSION isomargin UPDATE;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'isomargin') AS current
  FROM pg_extension WHERE extname = 'isomargin';
-- the book is still enforced: the long crosses its liquidation price (27108.43...)
UPDATE marks SET mark_price = 27100;
INSERT INTO positions VALUES (3, 'BTC', 1, 33000, 2000);
SELECT id, status, liquidation_price FROM positions ORDER BY id;
SELECT position_key, old_status, new_status FROM isomargin.events ORDER BY id;
SELECT isomargin.unenforce('positions');
DROP TABLE positions, marks, instruments;
INSERT INTO catalog_of SELECT 'updated', item FROM extension_catalog;
DROP EXTENSION isomargin;

-- A fresh install of the current version.
CREATE EXTENSION isomargin;
INSERT INTO catalog_of SELECT 'fresh', item FROM extension_catalog;
DROP EXTENSION isomargin;
DROP SCHEMA isomargin;

SELECT count(*) >= 50 AS described FROM catalog_of WHERE install = 'fresh';
-- what one install has and the other lacks: nothing
(SELECT 'only fresh' AS install, item FROM catalog_of WHERE install = 'fresh'
 EXCEPT ALL SELECT 'only fresh', item FROM catalog_of WHERE install = 'updated')
UNION ALL
(SELECT 'only updated', item FROM catalog_of WHERE install = 'updated'
 EXCEPT ALL SELECT 'only updated', item FROM catalog_of WHERE install = 'fresh')
ORDER BY 1, 2;
