-- 0033_email_statistics: finer statistics of the e-mail addresses the 利用者 search reads (issue 12).
-- With an e-mail text, shomei-users asks PostgreSQL how many addresses of users and devices contain
-- it (queries.c, q_email_estimate): past USERS_EMAIL_MANY it tests each user the list's order reads,
-- else it gathers the matching users first. The estimate of a LIKE '%text%' comes from the
-- histogram of lower(email) kept for the indexes on it; with the default 100 entries one entry
-- that happens to contain the text counts for 1% of the table: on the bench tenant (1,000,000
-- devices) an ANALYZE put `tanaka.yui` (1,438 devices) at 10,101, and the search walked every user
-- (1.06 s a page instead of 50 ms). With 1,000 entries the same texts are estimated at 1,001
-- (1,438), `sato` 33,033 (33,354), `example.jp` 999,900 (all). ANALYZE then samples 300,000 rows
-- of these tables instead of 30,000 (3.6 s for devices on the bench tenant).
ALTER INDEX users_email ALTER COLUMN 2 SET STATISTICS 1000;
ALTER INDEX users_list_email ALTER COLUMN 2 SET STATISTICS 1000;
ALTER INDEX users_email_trgm ALTER COLUMN 1 SET STATISTICS 1000;
ALTER INDEX devices_email_trgm ALTER COLUMN 1 SET STATISTICS 1000;
ALTER INDEX devices_pair ALTER COLUMN 3 SET STATISTICS 1000;
ANALYZE users;
ANALYZE devices;
