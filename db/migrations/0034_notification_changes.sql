-- 0034_notification_changes: the 送信メール (outbox) pages kept in Redis by the tenant's generation
-- of its notices (web/pagecache.h), as the CSV 処理状況's are (0031). A notice's row is written
-- when it is queued, at every attempt of the mail worker (status, attempts, last error, times) and
-- when it is sent again (再送); a trigger adds, per statement, one row per tenant written, and the
-- tenant's newest row with its number of rows is the generation (store/db.h, db_changes_gen), so a
-- page shows a notice's new status at the next request. Readers fold a tenant's rows into one once
-- there are many. Its own pair of functions, as 0031 says why.
CREATE TABLE notification_changes (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL
);
CREATE INDEX notification_changes_tenant ON notification_changes (tenant_id, id);

CREATE FUNCTION notification_changes_new() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO notification_changes (tenant_id) SELECT DISTINCT tenant_id FROM new_rows
		WHERE tenant_id IS NOT NULL;
	RETURN NULL;
END $$;

CREATE FUNCTION notification_changes_old() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO notification_changes (tenant_id) SELECT DISTINCT tenant_id FROM old_rows
		WHERE tenant_id IS NOT NULL;
	RETURN NULL;
END $$;

CREATE TRIGGER notification_changes_insert AFTER INSERT ON notifications
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notification_changes_new();
CREATE TRIGGER notification_changes_update AFTER UPDATE ON notifications
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notification_changes_new();
CREATE TRIGGER notification_changes_delete AFTER DELETE ON notifications
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION notification_changes_old();
