-- Version 0.1 is released: ALTER EXTENSION UPDATE brings a 0.1 database to
-- exactly what a fresh install gives (functions, types, tables, views,
-- grants, comments), and keeps the data written under 0.1.
SELECT current_database() AS home_database \gset
-- One line of text per extension member, OIDs left out.
\set describe 'SELECT count(*) AS members, md5(string_agg(d, E''\n'' ORDER BY d)) AS catalog FROM (SELECT pg_describe_object(dep.classid, dep.objid, 0) || '' | '' || coalesce(obj_description(dep.objid, dep.classid::regclass::text), '''') || '' | '' || coalesce(CASE dep.classid WHEN ''pg_proc''::regclass THEN (SELECT pg_get_function_identity_arguments(p.oid) || '' -> '' || pg_get_function_result(p.oid) || '' '' || p.provolatile::text || p.proparallel::text || p.prosecdef::text || p.proisstrict::text || coalesce(p.proconfig::text, '''') || coalesce(p.proacl::text, '''') FROM pg_proc p WHERE p.oid = dep.objid) WHEN ''pg_class''::regclass THEN (SELECT c.relkind::text || coalesce(c.relacl::text, '''') || coalesce((SELECT string_agg(a.attname || '':'' || format_type(a.atttypid, a.atttypmod) || a.attnotnull::text || coalesce(pg_get_expr(ad.adbin, ad.adrelid), ''''), '','' ORDER BY a.attnum) FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '''') || coalesce((SELECT string_agg(k.conname || '' '' || pg_get_constraintdef(k.oid), '','' ORDER BY k.conname) FROM pg_constraint k WHERE k.conrelid = c.oid), '''') || coalesce((SELECT string_agg(pg_get_indexdef(i.indexrelid), '','' ORDER BY i.indexrelid::regclass::text) FROM pg_index i WHERE i.indrelid = c.oid), '''') || coalesce((SELECT string_agg(t.tgname, '','' ORDER BY t.tgname) FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal), '''') || CASE WHEN c.relkind = ''v'' THEN pg_get_viewdef(c.oid) ELSE '''' END FROM pg_class c WHERE c.oid = dep.objid) WHEN ''pg_type''::regclass THEN (SELECT format_type(t.oid, NULL) FROM pg_type t WHERE t.oid = dep.objid) END, '''') AS d FROM pg_depend dep WHERE dep.refclassid = ''pg_extension''::regclass AND dep.deptype = ''e'' AND dep.refobjid = (SELECT oid FROM pg_extension WHERE extname = ''mailsentry'')) s'

CREATE DATABASE mailsentry_upgraded;
CREATE DATABASE mailsentry_fresh;

\c mailsentry_fresh
SET client_min_messages = error;
CREATE EXTENSION mailsentry;
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'mailsentry';
:describe \gset fresh_

\c mailsentry_upgraded
SET client_min_messages = error;
CREATE EXTENSION mailsentry VERSION '0.1';
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'mailsentry';
-- Data written under 0.1: a cached verdict and a weight override.
INSERT INTO mailsentry.cache (address, domain, depth, mx_found, smtp_outcome, inconclusive,
                              checked_at, expires_at)
VALUES ('ann@old-facts.net', 'old-facts.net', 'standard', false, 'not_attempted', false,
        now(), now() + interval '1 day');
INSERT INTO mailsentry.weight_overrides (name, points) VALUES ('role_address', 60);
ALTER EXTENSION mailsentry UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'mailsentry';
:describe \gset upgraded_
SELECT :'upgraded_members' = :'fresh_members' AS same_members,
       :'upgraded_catalog' = :'fresh_catalog' AS same_catalog;
-- The 0.1 row is read by this library: a domain without mail, cached before
-- the finding's kind was recorded, is still dead.
SELECT cached, verdict, verification_level, issues
FROM mailsentry.cached_result('ann@old-facts.net');
SELECT dead_domain FROM mailsentry.cache;
SELECT points FROM mailsentry.score_weights WHERE name = 'role_address';
SELECT name, default_points FROM mailsentry.score_weights
WHERE name IN ('dead_domain', 'no_answer', 'no_mx') ORDER BY name;

\c :home_database
DROP DATABASE mailsentry_upgraded;
DROP DATABASE mailsentry_fresh;
