-- 0016_lists: lists at scale (issue 12): substring search by trigram index (pg_trgm), the kana
-- fold behind 利用者 name search, and the indexes that page every list by key (sort key + id).

-- pg_trgm is a trusted extension: the database's owner (shomei_owner, who runs the migrations)
-- may create it. Debian ships it with the server (postgresql-contrib).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- A text as name search compares it: NFKC (half-width ｶﾀｶﾅ to full width, ｶﾞ to ガ, full-width
-- ＡＢＣ to ABC), hiragana to katakana, lower case. So ひらがな, カタカナ and ｶﾀｶﾅ input find the same.
CREATE FUNCTION kana_fold(t text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT lower(translate(normalize(t, NFKC),
		'ぁあぃいぅうぇえぉおかがきぎくぐけげこごさざしじすずせぜそぞただちぢっつづてでとどなにぬねのはばぱひびぴふぶぷへべぺほぼぽまみむめもゃやゅゆょよらりるれろゎわゐゑをんゔゕゖゝゞ',
		'ァアィイゥウェエォオカガキギクグケゲコゴサザシジスズセゼソゾタダチヂッツヅテデトドナニヌネノハバパヒビピフブプヘベペホボポマミムメモャヤュユョヨラリルレロヮワヰヱヲンヴヵヶヽヾ')) $$;

-- A search text as a LIKE pattern that finds it anywhere (% _ and \ taken literally).
CREATE FUNCTION like_contains(t text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT '%' || replace(replace(replace(t, '\', '\\'), '%', '\%'), '_', '\_') || '%' $$;

-- The names each search field compares (family: 姓, セイ, family name in English; given likewise),
-- folded; chr(31) keeps one name from running into the next.
ALTER TABLE users
	ADD COLUMN family_fold text GENERATED ALWAYS AS
		(kana_fold(family_name || chr(31) || family_name_kana || chr(31) || family_name_en)) STORED,
	ADD COLUMN given_fold text GENERATED ALWAYS AS
		(kana_fold(given_name || chr(31) || given_name_kana || chr(31) || given_name_en)) STORED;

CREATE INDEX users_family_trgm ON users USING gin (family_fold gin_trgm_ops);
CREATE INDEX users_given_trgm ON users USING gin (given_fold gin_trgm_ops);
CREATE INDEX users_email_trgm ON users USING gin (lower(email) gin_trgm_ops);
CREATE INDEX devices_email_trgm ON devices USING gin (lower(email) gin_trgm_ops);
CREATE INDEX certificates_cn_trgm ON certificates USING gin (lower(cn) gin_trgm_ops);
CREATE INDEX audit_detail_trgm ON audit USING gin (lower(detail) gin_trgm_ops);

-- Keyset paging: each list's order as an index, read forwards or backwards from a cursor.
-- 証明書一覧: 発行日 (a certificate still issuing has none: it sorts as the newest).
CREATE INDEX certificates_list ON certificates (tenant_id, coalesce(issued_at, 'infinity'), id);
-- 利用者一覧: 申請日, フリガナ, メールアドレス; rows of purged users are never listed.
CREATE INDEX users_list_applied ON users (tenant_id, applied_at, id) WHERE purged_at IS NULL;
CREATE INDEX users_list_kana ON users
	(tenant_id, (family_name_kana || chr(31) || given_name_kana), id) WHERE purged_at IS NULL;
CREATE INDEX users_list_email ON users (tenant_id, lower(email), id) WHERE purged_at IS NULL;
-- 操作履歴 by operation (the date order's index, audit_tenant_at, is there since 0001).
CREATE INDEX audit_list_action ON audit (tenant_id, action, at, id);
DROP INDEX audit_tenant_action;
