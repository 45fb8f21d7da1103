-- test/lib/extension_catalog.sql: the temporary view extension_catalog, one text line (item)
-- per fact of isomargin's catalog in the current database, for comparing two installs
-- (sql/zz_upgrade.sql, test/t/001_upgrade.pl).  What it describes:
--   every member object (pg_describe_object), with
--     functions   their whole definition (pg_get_functiondef: body, settings, volatility,
--                 strictness, ...) and ACL
--     relations   kind, ACL, columns (type, not null, default, column ACL), constraints,
--                 indexes, triggers, options (a view's security_invoker), row security
--                 and its policies
--     types       kind, ACL, enum labels
--     operators   their function;  casts  their function and context
--     and its comment
--   what pg_dump keeps of the configuration tables (pg_extension_config_dump)
--   the schema: ACL, and whether the extension's owner owns it
--   the initial privileges recorded for members and the schema (pg_init_privs: what
--   pg_dump compares grants against)
-- Nothing names an OID, so two databases (or a database before and after) compare as text.
CREATE TEMP VIEW extension_catalog AS
WITH ext AS (
    SELECT x.oid, x.extowner, x.extnamespace, x.extconfig, x.extcondition
      FROM pg_catalog.pg_extension x WHERE x.extname = 'isomargin'
), member AS (
    SELECT d.classid, d.objid
      FROM pg_catalog.pg_depend d, ext
     WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e'
       AND d.refobjid = ext.oid
)
SELECT pg_catalog.pg_describe_object(m.classid, m.objid, 0) || coalesce(': ' || (
         CASE m.classid
           WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN
             (SELECT pg_catalog.pg_get_functiondef(p.oid) || ' acl ' || coalesce(p.proacl::text, '-')
                FROM pg_catalog.pg_proc p WHERE p.oid = m.objid AND p.prokind <> 'a')
           WHEN 'pg_catalog.pg_class'::pg_catalog.regclass THEN
             (SELECT r.relkind::text || ' acl ' || coalesce(r.relacl::text, '-') || ' columns ' ||
                     coalesce((SELECT pg_catalog.string_agg(a.attname || ' ' ||
                                 pg_catalog.format_type(a.atttypid, a.atttypmod) ||
                                 CASE WHEN a.attnotnull THEN ' not null' ELSE '' END ||
                                 coalesce(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '') ||
                                 coalesce(' acl ' || a.attacl::text, ''),
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
                                                            ORDER BY pg_catalog.pg_get_indexdef(i.indexrelid))
                                 FROM pg_catalog.pg_index i WHERE i.indrelid = r.oid), '') ||
                     ' triggers ' ||
                     coalesce((SELECT pg_catalog.string_agg(pg_catalog.pg_get_triggerdef(t.oid) ||
                                                            ' enabled ' || t.tgenabled::text, ', ' ORDER BY t.tgname)
                                 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = r.oid), '') ||
                     ' options ' || coalesce(r.reloptions::text, '-') ||
                     ' row security ' || r.relrowsecurity::text || ' forced ' || r.relforcerowsecurity::text ||
                     ' policies ' ||
                     coalesce((SELECT pg_catalog.string_agg(pl.polname || ' ' || pl.polcmd::text ||
                                                            CASE WHEN pl.polpermissive THEN ' permissive' ELSE ' restrictive' END ||
                                                            ' to ' || pl.polroles::pg_catalog.regrole[]::text ||
                                                            coalesce(' using ' || pg_catalog.pg_get_expr(pl.polqual, pl.polrelid), '') ||
                                                            coalesce(' check ' || pg_catalog.pg_get_expr(pl.polwithcheck, pl.polrelid), ''),
                                                            ', ' ORDER BY pl.polname)
                                 FROM pg_catalog.pg_policy pl WHERE pl.polrelid = r.oid), '')
                FROM pg_catalog.pg_class r WHERE r.oid = m.objid)
           WHEN 'pg_catalog.pg_type'::pg_catalog.regclass THEN
             (SELECT t.typtype::text || ' acl ' || coalesce(t.typacl::text, '-') ||
                     coalesce(' labels ' || (SELECT pg_catalog.string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                               FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid), '')
                FROM pg_catalog.pg_type t WHERE t.oid = m.objid)
           WHEN 'pg_catalog.pg_operator'::pg_catalog.regclass THEN
             (SELECT o.oprcode::text FROM pg_catalog.pg_operator o WHERE o.oid = m.objid)
           WHEN 'pg_catalog.pg_cast'::pg_catalog.regclass THEN
             (SELECT c.castfunc::pg_catalog.regprocedure::text || ' ' || c.castcontext::text
                FROM pg_catalog.pg_cast c WHERE c.oid = m.objid)
         END), '') ||
       coalesce(' comment ' || pg_catalog.obj_description(m.objid, m.classid::pg_catalog.regclass::name), '') AS item
  FROM member m
UNION ALL
SELECT 'config dump ' || pg_catalog.string_agg(u.c::pg_catalog.regclass::text || ' ' || coalesce(u.f, '-'), ', '
                                               ORDER BY u.c::pg_catalog.regclass::text)
  FROM ext, ROWS FROM (pg_catalog.unnest(ext.extconfig), pg_catalog.unnest(ext.extcondition)) AS u(c, f)
UNION ALL
SELECT 'schema ' || n.nspname || ' acl ' || coalesce(n.nspacl::text, '-') ||
       CASE WHEN n.nspowner = ext.extowner THEN ' owned by the extension owner' ELSE ' owned by another role' END
  FROM ext JOIN pg_catalog.pg_namespace n ON n.oid = ext.extnamespace
UNION ALL
SELECT 'initial privileges of ' || pg_catalog.pg_describe_object(i.classoid, i.objoid, i.objsubid) || ': ' ||
       i.privtype::text || ' ' || i.initprivs::text
  FROM pg_catalog.pg_init_privs i, ext
 WHERE (i.classoid, i.objoid) IN (SELECT m.classid, m.objid FROM member m)
    OR (i.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND i.objoid = ext.extnamespace);
