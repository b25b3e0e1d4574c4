-- 0027_certificates_list_valid: 証明書一覧 as it opens (status=valid, the default) by an index range.
-- The list is ordered by 発行日 (certificates_list, with the rows still issuing or never issued at
-- the end: their 発行日 is NULL, read as infinity). Newest first, the valid certificates were
-- found by reading certificates_list backwards and dropping every other row: past the failed
-- ones first (never issued, so all at that end; 59,159 in the 1,000,000 of bench/seed), then the
-- revoked and expired among the newest: 4,182 index and table pages for the first page of a
-- million-certificate tenant, 5 ms. The valid ones alone (LC_SQL_COUNTED in
-- common/domain/lifecycle.h: issuing, issued, downloaded, revoke_scheduled) in the same order: the
-- page is its first 101 entries (about 900 pages, mostly the devices and users joined to it).
CREATE INDEX certificates_list_valid ON certificates (tenant_id, coalesce(issued_at, 'infinity'), id)
	WHERE status IN ('issuing', 'issued', 'downloaded', 'revoke_scheduled');
