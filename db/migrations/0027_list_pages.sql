-- 0027_list_pages: 証明書一覧 and 利用者 pages read fewer pages (issue 12, "Lists at scale").
--
-- 証明書一覧 as it opens (status=valid, the default) by an index range. The list is ordered by
-- 発行日 (certificates_list, with the rows still issuing or never issued at the end: their 発行日
-- is NULL, read as infinity). Newest first, the valid certificates were found by reading
-- certificates_list backwards and dropping every other row: past the failed ones first (never
-- issued, so all at that end; 59,159 in the 1,000,000 of bench/seed), then the revoked and
-- expired among the newest: 4,182 index and table pages for the first page of a
-- million-certificate tenant, 5 ms. The valid ones alone (LC_SQL_COUNTED in
-- common/domain/lifecycle.h: issuing, issued, downloaded, revoke_scheduled) in the same order:
-- the page is its first 101 entries.
CREATE INDEX certificates_list_valid ON certificates (tenant_id, coalesce(issued_at, 'infinity'), id)
	WHERE status IN ('issuing', 'issued', 'downloaded', 'revoke_scheduled');

-- Each row of a page is joined to its device (device code, e-mail) and 証明書一覧's to its user
-- (name): 101 to 202 probes by primary key a page, each three index pages and one table page.
-- With what the pages show in the index, a probe is an index-only scan: a page of 証明書一覧
-- read 876 pages, now 685; the certificates of a page of 利用者 1,313, now 1,112.
CREATE INDEX devices_shown ON devices (id) INCLUDE (tenant_id, device_code, email);
CREATE INDEX users_shown ON users (id) INCLUDE (tenant_id, family_name, given_name);
