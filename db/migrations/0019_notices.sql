-- 0019: notices (issue 13). The outbox `notifications` (from 0001) becomes a queue the mail
-- worker of shomei-users sends: a row is a notice of a kind to one address in one language,
-- with its parameters; subject and body are rendered from the template files when it is sent
-- (so an operator's edit applies to what is still queued, and the one-time link of the
-- credentials notice is made only then: no secret is ever stored here). Rows are written by
-- triggers in the transaction of the change that causes them, so every path (the API, the
-- workers, the scheduler, the internal API, shomeictl) enqueues without knowing about mail, and
-- nothing is sent for a change that rolled back.
ALTER TABLE notifications ALTER COLUMN subject SET DEFAULT '';
ALTER TABLE notifications ALTER COLUMN body SET DEFAULT '';
ALTER TABLE notifications ADD COLUMN kind text NOT NULL DEFAULT 'legacy';
ALTER TABLE notifications ADD COLUMN lang text NOT NULL DEFAULT 'ja' CHECK (lang IN ('ja', 'en'));
ALTER TABLE notifications ADD COLUMN params jsonb NOT NULL DEFAULT '{}';
ALTER TABLE notifications ADD COLUMN certificate_id bigint REFERENCES certificates (id);
ALTER TABLE notifications ADD COLUMN status text NOT NULL DEFAULT 'queued'
	CHECK (status IN ('queued', 'sent', 'failed'));
ALTER TABLE notifications ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE notifications ADD COLUMN last_attempt_at timestamptz;
ALTER TABLE notifications ADD COLUMN last_error text;
ALTER TABLE notifications ADD COLUMN message_id text;
UPDATE notifications SET status = 'sent' WHERE sent_at IS NOT NULL;
CREATE INDEX notifications_due ON notifications (next_attempt_at, id) WHERE status = 'queued';
CREATE INDEX notifications_tenant ON notifications (tenant_id, id DESC);

-- The tenant's administrators' notice address (a setting of theirs), the language of their
-- notices, and the tenant's own From and Reply-To ('' = the configuration's mail_from / none).
ALTER TABLE tenants ADD COLUMN notice_address text NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN notice_lang text NOT NULL DEFAULT 'ja' CHECK (notice_lang IN ('ja', 'en'));
ALTER TABLE tenants ADD COLUMN mail_from text NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN mail_reply_to text NOT NULL DEFAULT '';
-- The language of a user's notices.
ALTER TABLE users ADD COLUMN lang text NOT NULL DEFAULT 'ja' CHECK (lang IN ('ja', 'en'));

-- The one-time links of 「ログイン ID とパスワードのご案内」: only the SHA-256 of the token.
CREATE TABLE notice_links (
	notification_id bigint PRIMARY KEY REFERENCES notifications (id),
	tenant_id bigint NOT NULL REFERENCES tenants (id),
	certificate_id bigint NOT NULL REFERENCES certificates (id),
	token_sha256 bytea NOT NULL UNIQUE,
	expires_at timestamptz NOT NULL,
	used_at timestamptz,
	used_ip text
);

-- Expiry reminders: one row per certificate and threshold (days), one digest per tenant and
-- JST day; the unique keys make every run, on any instance, send each at most once.
CREATE TABLE expiry_reminders (
	certificate_id bigint NOT NULL REFERENCES certificates (id),
	threshold integer NOT NULL CHECK (threshold IN (30, 15, 5, 1)),
	sent_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (certificate_id, threshold)
);
CREATE TABLE expiry_digests (
	tenant_id bigint NOT NULL REFERENCES tenants (id),
	day date NOT NULL,
	PRIMARY KEY (tenant_id, day)
);
CREATE INDEX certificates_valid_not_after ON certificates (not_after)
	WHERE status IN ('issued', 'downloaded', 'revoke_scheduled');

-- Whether the tenant sends notices to its users: the feature and the setting.
CREATE FUNCTION notice_users_on(t bigint) RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT notify_users AND 'notify_users' = ANY (features)
			 FROM tenants WHERE id = t), false)
$$;

-- Queue a notice to the tenant's administrators, when they have a notice address; how many.
CREATE FUNCTION notice_admin(t bigint, k text, p jsonb) RETURNS integer LANGUAGE sql AS $$
	WITH i AS (INSERT INTO notifications (tenant_id, to_addr, kind, lang, params)
		SELECT id, notice_address, k, notice_lang, p FROM tenants
		WHERE id = t AND notice_address <> '' RETURNING 1)
	SELECT count(*)::integer FROM i
$$;

-- Queue a notice to the user of a certificate, when the tenant sends them and the certificate
-- is not one of the administrator's bulk download; how many.
CREATE FUNCTION notice_user(c certificates, k text, p jsonb) RETURNS integer LANGUAGE sql AS $$
	WITH i AS (INSERT INTO notifications (tenant_id, to_addr, kind, lang, params, certificate_id)
	SELECT c.tenant_id, c.email, k, coalesce(u.lang, 'ja'),
	       p || jsonb_build_object('cn', c.cn, 'family_name', coalesce(u.family_name, ''),
				       'given_name', coalesce(u.given_name, '')),
	       c.id
	FROM (SELECT 1) one LEFT JOIN users u ON u.id = c.user_id
	WHERE c.user_id IS NOT NULL AND coalesce(c.email, '') <> ''
	  AND NOT c.admin_download
	  AND NOT coalesce((SELECT admin_download FROM jobs WHERE id = c.job_id), false)
	  AND notice_users_on(c.tenant_id) RETURNING 1)
	SELECT count(*)::integer FROM i
$$;

-- A certificate issued: 「秘密の鍵」を登録してください and the ID/password link; revoked: a notice.
CREATE FUNCTION notice_certificate_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.status = 'issued' AND OLD.status = 'issuing' THEN
		PERFORM notice_user(NEW, 'user_issued', '{}');
		PERFORM notice_user(NEW, 'user_credentials', '{}');
	ELSIF NEW.status = 'revoked' AND OLD.status <> 'revoked' THEN
		PERFORM notice_user(NEW, 'user_revoked', jsonb_build_object('revoked_at',
			to_char(coalesce(NEW.revoked_at, now()) AT TIME ZONE 'Asia/Tokyo', 'YYYY/MM/DD HH24:MI')));
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER certificates_notice AFTER UPDATE OF status ON certificates
	FOR EACH ROW WHEN (NEW.status IS DISTINCT FROM OLD.status)
	EXECUTE FUNCTION notice_certificate_row();

-- 失効 to the administrators: one notice per statement and tenant, naming the certificates.
CREATE FUNCTION notice_certificate_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM notice_admin(n.tenant_id, 'admin_revoked',
		jsonb_build_object('count', count(*), 'items', string_agg(n.cn, E'\n' ORDER BY n.cn)))
	FROM new_rows n JOIN old_rows o ON o.id = n.id
	WHERE n.status = 'revoked' AND o.status <> 'revoked'
	GROUP BY n.tenant_id;
	RETURN NULL;
END
$$;
CREATE TRIGGER certificates_notice_revoked AFTER UPDATE ON certificates
	REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION notice_certificate_revoked();

-- 1次削除 and マスター削除 (完了) to the administrators, one notice per statement and tenant.
CREATE FUNCTION notice_users_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM notice_admin(o.tenant_id, 'admin_user_deleted',
		jsonb_build_object('count', count(*), 'items',
			string_agg(o.family_name || ' ' || o.given_name || ' <' || o.email || '>', E'\n' ORDER BY o.id)))
	FROM new_rows n JOIN old_rows o ON o.id = n.id
	WHERE n.deleted_at IS NOT NULL AND o.deleted_at IS NULL AND n.purged_at IS NULL
	GROUP BY o.tenant_id;
	PERFORM notice_admin(o.tenant_id, 'admin_user_purged',
		jsonb_build_object('count', count(*), 'items',
			string_agg(o.family_name || ' ' || o.given_name || ' <' || o.email || '>', E'\n' ORDER BY o.id)))
	FROM new_rows n JOIN old_rows o ON o.id = n.id
	WHERE n.purged_at IS NOT NULL AND o.purged_at IS NULL
	GROUP BY o.tenant_id;
	RETURN NULL;
END
$$;
CREATE TRIGGER users_notice_deleted AFTER UPDATE ON users
	REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION notice_users_deleted();

-- 利用者登録受付: the history entry of a registration names what was registered.
CREATE FUNCTION notice_audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.action = 'user_register' THEN
		PERFORM notice_admin(NEW.tenant_id, 'admin_user_registered',
			jsonb_build_object('detail', NEW.detail));
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER audit_notice AFTER INSERT ON audit
	FOR EACH ROW EXECUTE FUNCTION notice_audit_row();

-- CSV jobs, when one ends (NRA: 「処理が正常に完了すると管理者宛に…通知が届きます」):
-- 利用者一括登録受付通知, or 利用者一括登録受付エラー通知 with the error lines; the bulk download
-- URL after an admin_download import; 利用者一括失効受付通知; 利用者マスター削除完了通知.
CREATE FUNCTION notice_job_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	p jsonb := jsonb_build_object('job_id', NEW.id, 'filename', NEW.filename,
				      'total', NEW.total, 'certificates', NEW.devices);
	bad boolean := NEW.status = 'failed' OR jsonb_array_length(NEW.errors) > 0;
BEGIN
	IF NEW.status NOT IN ('done', 'failed') OR OLD.status IN ('done', 'failed') THEN
		RETURN NULL;
	END IF;
	IF NEW.kind = 'user_import' AND bad THEN
		PERFORM notice_admin(NEW.tenant_id, 'admin_import_error', p || jsonb_build_object(
			'errors', (SELECT coalesce(string_agg(
				coalesce(e->>'line', '-') || ': ' || coalesce(e->>'field', '') || ' '
				|| coalesce(e->>'message', ''), E'\n'), '')
				FROM jsonb_array_elements(NEW.errors) e)));
	ELSIF NEW.kind = 'user_import' THEN
		PERFORM notice_admin(NEW.tenant_id, 'admin_import_accepted', p);
		IF NEW.admin_download THEN
			PERFORM notice_admin(NEW.tenant_id, 'admin_bulk_download', p);
		END IF;
	ELSIF NEW.kind = 'revoke_csv' AND NOT bad THEN
		PERFORM notice_admin(NEW.tenant_id, 'admin_revoke_accepted', p);
	ELSIF NEW.kind = 'user_purge' AND NOT bad THEN
		PERFORM notice_admin(NEW.tenant_id, 'admin_purge_done', p);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER jobs_notice AFTER UPDATE OF status ON jobs
	FOR EACH ROW EXECUTE FUNCTION notice_job_row();
