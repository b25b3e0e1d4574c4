-- 0030_audit_changes: the 操作履歴's pages kept in Redis by the tenant's generation of the history
-- (web/pagecache.h), as 証明書一覧 and 利用者 are (0028, 0029). Entries are added by every action,
-- and one is rewritten in place (a repeated failed login's count, audit.c); a trigger adds, per
-- statement, one row per tenant written, and the tenant's newest row with its number of rows is
-- the generation (the number moves when an entry added in an earlier transaction commits after a
-- later one). Readers fold a tenant's rows into one once there are many (audit.c).
CREATE TABLE audit_changes (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL
);
CREATE INDEX audit_changes_tenant ON audit_changes (tenant_id, id);

CREATE FUNCTION audit_changes_new() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO audit_changes (tenant_id) SELECT DISTINCT tenant_id FROM new_rows
		WHERE tenant_id IS NOT NULL;
	RETURN NULL;
END $$;

CREATE FUNCTION audit_changes_old() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO audit_changes (tenant_id) SELECT DISTINCT tenant_id FROM old_rows
		WHERE tenant_id IS NOT NULL;
	RETURN NULL;
END $$;

CREATE TRIGGER audit_changes_insert AFTER INSERT ON audit
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_changes_new();
CREATE TRIGGER audit_changes_update AFTER UPDATE ON audit
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_changes_new();
CREATE TRIGGER audit_changes_delete AFTER DELETE ON audit
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_changes_old();
