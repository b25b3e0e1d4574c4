-- 0024_user_name_folds: the 利用者 list's short name search (issue 12) compares stored folds.
-- A 姓/名 search of one or two characters matches the names that begin with it, in kanji, kana
-- or English (0017). Its kanji and kana tests called kana_fold (NFKC, then a translate of every
-- character) on each row the page read: a page of 山田 read in the list's order folded some
-- 3,600 names, and the same page by the prefix indexes folded each of its 1,600 rows again in
-- the recheck. The folds are now columns, computed once when a name is written, and the prefix
-- indexes are on them (services/users/queries.c, NAME).
ALTER TABLE users
	ADD COLUMN family_name_fold text GENERATED ALWAYS AS (kana_fold(family_name)) STORED,
	ADD COLUMN family_kana_fold text GENERATED ALWAYS AS (kana_fold(family_name_kana)) STORED,
	ADD COLUMN given_name_fold text GENERATED ALWAYS AS (kana_fold(given_name)) STORED,
	ADD COLUMN given_kana_fold text GENERATED ALWAYS AS (kana_fold(given_name_kana)) STORED;

DROP INDEX users_family_prefix, users_family_kana_prefix, users_given_prefix,
	users_given_kana_prefix;
CREATE INDEX users_family_prefix ON users (tenant_id, family_name_fold text_pattern_ops);
CREATE INDEX users_family_kana_prefix ON users (tenant_id, family_kana_fold text_pattern_ops);
CREATE INDEX users_given_prefix ON users (tenant_id, given_name_fold text_pattern_ops);
CREATE INDEX users_given_kana_prefix ON users (tenant_id, given_kana_fold text_pattern_ops);
ANALYZE users;
