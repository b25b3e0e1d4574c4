-- 0025_list_covering: the 利用者 list's certificate conditions (issue 12) read from indexes alone.
-- A user matches a 有効期限 range, a status or a device when one of its certificates does
-- (services/users/queries.c, CERT_ARRAY): the certificates' user ids are gathered, then the users
-- checked (not deleted, the tenant's) and put in the list's order for the count.
--
-- The certificates of a 有効期限 range, read by certificates_not_after, gave their user_id (and
-- status, device_id when those conditions are given too) from the table, one row fetched per
-- certificate: 1,463 fetches for a fortnight of 200,000 certificates. With the columns in the
-- index the range is an index-only scan.
DROP INDEX certificates_not_after;
CREATE INDEX certificates_not_after ON certificates (tenant_id, not_after)
	INCLUDE (user_id, status, device_id);

-- Each gathered user was then fetched from the table to be counted (status=failed: 5,718 users,
-- 5,794 fetches, on every first page, the total being exact). The users listed (neither purged
-- nor deleted) by tenant and id, with what the count reads of them: an index-only probe per
-- user. It leads with tenant_id like users_tenant, which PostgreSQL otherwise takes (an index on
-- id alone was passed over once the statistics were fresh).
CREATE INDEX users_live ON users (tenant_id, id) INCLUDE (applied_at)
	WHERE purged_at IS NULL AND deleted_at IS NULL;
