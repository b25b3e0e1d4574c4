-- 0029_list_pages_changed: what a page of 証明書一覧 or 利用者 shows, all of it, moves the tenant's
-- generation (0026 certificate_counts, 0028 user_changes), so that a page kept in Redis with it
-- (web/pagecache.h) is never shown after the rows it was made from changed.
--
-- A certificate's row adds a row to certificate_counts (of 0 when its status stays) when any
-- column a list shows changes: beyond the status, CN, 発行日, 有効期限, user and device (0026,
-- 0028), its e-mail, serial, validity start, 失効予定日, 失効日, download and replacement. The
-- issuance worker's own bookkeeping (claimed_at, attempts, last_error, updated_at) moves nothing.
CREATE OR REPLACE FUNCTION certificate_counts_update() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO certificate_counts (tenant_id, status, n)
		SELECT d.tenant_id, d.status, sum(d.n)
		FROM new_rows n JOIN old_rows o ON o.id = n.id
		CROSS JOIN LATERAL (VALUES (n.tenant_id, n.status, 1), (o.tenant_id, o.status, -1))
			AS d (tenant_id, status, n)
		WHERE (n.status, n.cn, n.email, n.serial, n.issued_at, n.not_before, n.not_after,
			n.revoke_on, n.revoked_at, n.user_id, n.device_id, n.downloaded_at, n.superseded_at)
			IS DISTINCT FROM
			(o.status, o.cn, o.email, o.serial, o.issued_at, o.not_before, o.not_after,
			o.revoke_on, o.revoked_at, o.user_id, o.device_id, o.downloaded_at, o.superseded_at)
		GROUP BY d.tenant_id, d.status;
	RETURN NULL;
END $$;

-- The 利用者 list shows each user's organisation by name.
CREATE TRIGGER user_changes_insert AFTER INSERT ON organizations
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_changes_new();
CREATE TRIGGER user_changes_update AFTER UPDATE ON organizations
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_changes_new();
CREATE TRIGGER user_changes_delete AFTER DELETE ON organizations
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION user_changes_old();
