-- 0017_list_filters: the indexes behind the 利用者 list's conditions (issue 12): status, device
-- and 有効期限 ranges read as index ranges, not whole tables; 1次削除 users listed without reading
-- the others; names shorter than a trigram found by their beginning.
-- A search text as a LIKE pattern that finds what begins with it.
CREATE FUNCTION like_prefix(t text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT replace(replace(replace(t, '\', '\\'), '%', '\%'), '_', '\_') || '%' $$;

CREATE INDEX certificates_status_user ON certificates (tenant_id, status, user_id);
CREATE INDEX certificates_not_after ON certificates (tenant_id, not_after);
-- also what deleting a device checks certificates' foreign key with
CREATE INDEX certificates_device ON certificates (device_id);
CREATE INDEX users_list_deleted ON users (tenant_id, applied_at, id)
	WHERE purged_at IS NULL AND deleted_at IS NOT NULL;
-- A name search shorter than a trigram (姓 山田, 名 太郎 in kanji are two characters) matches the
-- names that begin with it, in kanji, kana or English, by these (services/users/queries.c).
CREATE INDEX users_family_prefix ON users (tenant_id, kana_fold(family_name) text_pattern_ops);
CREATE INDEX users_family_kana_prefix ON users (tenant_id, kana_fold(family_name_kana) text_pattern_ops);
CREATE INDEX users_family_en_prefix ON users (tenant_id, lower(family_name_en) text_pattern_ops);
CREATE INDEX users_given_prefix ON users (tenant_id, kana_fold(given_name) text_pattern_ops);
CREATE INDEX users_given_kana_prefix ON users (tenant_id, kana_fold(given_name_kana) text_pattern_ops);
CREATE INDEX users_given_en_prefix ON users (tenant_id, lower(given_name_en) text_pattern_ops);
