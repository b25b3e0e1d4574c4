-- db/roles.sql: the database's owner and what the application's role may do, run as a superuser
-- in the database shomei once the roles exist (shomei_owner: owns the schema and the tables, runs
-- the migrations; shomei: the application's, rows only). scripts/up (pg_roles in scripts/lib.sh)
-- and docker/postgres-roles.sh run it at every start and on a cluster from before the split of
-- roles; it changes owners and privileges, never a row. Not a migration: role names and who
-- owns what are the deployment's, not the schema's.
ALTER DATABASE shomei OWNER TO shomei_owner;
REVOKE ALL ON DATABASE shomei FROM PUBLIC;
GRANT CONNECT ON DATABASE shomei TO shomei;
ALTER SCHEMA public OWNER TO shomei_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO shomei;
-- what the application's tables belong to in a cluster from before (the bootstrap superuser,
-- now postgres) goes to shomei_owner; an extension's objects stay where they are
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT n.oid::regnamespace AS name FROM pg_namespace n
		WHERE n.nspowner = 10 AND n.nspname NOT IN ('pg_catalog', 'information_schema')
			AND n.nspname NOT LIKE 'pg\_%'
	LOOP
		EXECUTE format('ALTER SCHEMA %s OWNER TO shomei_owner', r.name);
	END LOOP;
	FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relowner = 10 AND n.nspname NOT IN ('pg_catalog', 'information_schema')
			AND n.nspname NOT LIKE 'pg\_%' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
			AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
				AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
	LOOP
		EXECUTE format('ALTER %s %s OWNER TO shomei_owner',
			CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
				WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, r.name);
	END LOOP;
	FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p
		JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE p.proowner = 10 AND n.nspname NOT IN ('pg_catalog', 'information_schema')
			AND n.nspname NOT LIKE 'pg\_%'
			AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
				AND d.objid = p.oid AND d.deptype = 'e')
	LOOP
		EXECUTE format('ALTER ROUTINE %s OWNER TO shomei_owner', r.name);
	END LOOP;
	FOR r IN SELECT t.oid::regtype AS name FROM pg_type t
		JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE t.typowner = 10 AND t.typtype IN ('e', 'd', 'r') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
			AND n.nspname NOT LIKE 'pg\_%'
			AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
				AND d.objid = t.oid AND d.deptype = 'e')
	LOOP
		EXECUTE format('ALTER TYPE %s OWNER TO shomei_owner', r.name);
	END LOOP;
END $$;
-- the application reads and writes rows, of today's tables and of every later migration's
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO shomei;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO shomei;
ALTER DEFAULT PRIVILEGES FOR ROLE shomei_owner IN SCHEMA public
	GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO shomei;
ALTER DEFAULT PRIVILEGES FOR ROLE shomei_owner IN SCHEMA public GRANT USAGE ON SEQUENCES TO shomei;
