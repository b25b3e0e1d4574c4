-- 0023: a user's notices in English (users.lang = 'en', set by registration and 利用者変更) name
-- the user by the English names: the templates' {{family_name}} and {{given_name}} are the
-- 英語表記 for them, the Japanese names for everyone else. Otherwise as 0019's notice_user.
CREATE OR REPLACE FUNCTION notice_user(c certificates, k text, p jsonb) RETURNS integer LANGUAGE sql AS $$
	WITH i AS (INSERT INTO notifications (tenant_id, to_addr, kind, lang, params, certificate_id)
	SELECT c.tenant_id, c.email, k, coalesce(u.lang, 'ja'),
	       p || jsonb_build_object('cn', c.cn,
				       'family_name', coalesce(CASE WHEN u.lang = 'en' THEN u.family_name_en
								   ELSE u.family_name END, ''),
				       'given_name', coalesce(CASE WHEN u.lang = 'en' THEN u.given_name_en
								  ELSE u.given_name END, '')),
	       c.id
	FROM (SELECT 1) one LEFT JOIN users u ON u.id = c.user_id
	WHERE c.user_id IS NOT NULL AND coalesce(c.email, '') <> ''
	  AND NOT c.admin_download
	  AND NOT coalesce((SELECT admin_download FROM jobs WHERE id = c.job_id), false)
	  AND notice_users_on(c.tenant_id) RETURNING 1)
	SELECT count(*)::integer FROM i
$$;
