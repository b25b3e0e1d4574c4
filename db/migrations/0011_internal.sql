-- 0011: 2次削除 and CSV一括利用者マスター削除 (NRA 7). A purged user's e-mail is removed; what
-- remains is its SHA-256 (of the lower-cased address), so that a purge file naming the address
-- again is told "already purged" rather than "unknown". The history keeps the address anyway
-- (the 2次削除 entry names the user), so the digest discloses nothing new.
ALTER TABLE users ADD COLUMN purged_email_sha256 bytea;
CREATE INDEX users_purged_email ON users (tenant_id, purged_email_sha256)
	WHERE purged_email_sha256 IS NOT NULL;
