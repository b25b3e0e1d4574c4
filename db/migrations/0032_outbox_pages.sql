-- 0032_outbox_pages: 送信メール (GET /api/notifications) pages by key, newest first (issue 12),
-- as the other lists do. Every notice of a tenant is a range of notifications_tenant (tenant_id,
-- id DESC, from 0019); a status filter (送信待ち, 送信済, 送信失敗) is a range of this index, so
-- that a page of the failed notices among a million sent ones reads its hundred rows and no more,
-- and the count of a status stops after KEYSET_EXACT_MAX + 1 rows of it.
CREATE INDEX notifications_tenant_status ON notifications (tenant_id, status, id DESC);
