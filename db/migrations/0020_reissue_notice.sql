-- 0020: 利用者一括再発行受付通知 when a CSV一括再発行 job (kind reissue_csv, added by 0012) ends
-- well, as the other CSV jobs notify in 0019's notice_job_row(); the single reissue's
-- 電子証明書再発行通知 is queued by shomei-revoke in the reissue's own transaction.
CREATE OR REPLACE FUNCTION notice_job_row() RETURNS trigger LANGUAGE plpgsql AS $$
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
	ELSIF NEW.kind = 'reissue_csv' AND NOT bad THEN
		PERFORM notice_admin(NEW.tenant_id, 'admin_bulk_reissue_accepted', p);
	ELSIF NEW.kind = 'user_purge' AND NOT bad THEN
		PERFORM notice_admin(NEW.tenant_id, 'admin_purge_done', p);
	END IF;
	RETURN NULL;
END
$$;
