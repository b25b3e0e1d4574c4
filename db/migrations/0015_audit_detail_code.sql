-- 0015: the operation history (操作履歴) keeps who acted and what happened in a form each
-- viewer's language can render. login_id is the login ID of the administrator who acted, or
-- the ID that was tried (a failed login, a lockout, the download site's refusals), kept as it
-- was written: an administrator removed or renamed later still shows as they were.
-- detail_code and detail_params (a JSON array of strings) are the detail as a code of
-- common/domain/audit.c's table and its parameters; the list renders them in the viewer's
-- language. detail keeps the Japanese rendering, for the search (q) and for rows written
-- before this migration or by writers that do not give a code.
ALTER TABLE audit ADD COLUMN login_id text;
ALTER TABLE audit ADD COLUMN detail_code text;
ALTER TABLE audit ADD COLUMN detail_params jsonb;
UPDATE audit a SET login_id = ad.login_id FROM admins ad
	WHERE a.actor_kind = 'admin' AND ad.id = a.actor_id AND ad.tenant_id = a.tenant_id;
