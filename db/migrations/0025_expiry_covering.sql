-- 0025_expiry_covering: the 利用者 list's 有効期限 range (issue 12) read from the index alone.
-- A user matches a range when one of its certificates ends in it (services/users/queries.c,
-- CERT_ARRAY): the certificates of the range, read by certificates_not_after, gave their
-- user_id (and status, device_id when those conditions are given too) from the table, one row
-- fetched per certificate: 1,463 fetches for a fortnight of 200,000 certificates. With the
-- columns in the index the range is an index-only scan.
DROP INDEX certificates_not_after;
CREATE INDEX certificates_not_after ON certificates (tenant_id, not_after)
	INCLUDE (user_id, status, device_id);
