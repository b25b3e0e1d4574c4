-- 0032_outbox_pages: 送信メール (GET /api/notifications) pages by key, newest first (issue 12),
-- as the other lists do. Every notice of a tenant is a range of notifications_tenant (tenant_id,
-- id DESC, from 0019); a status filter (送信待ち, 送信済, 送信失敗) is a range of this index, so
-- that a page of the failed notices among a million sent ones reads its hundred rows and no more,
-- and the count of a status stops after KEYSET_EXACT_MAX + 1 rows of it.
CREATE INDEX notifications_tenant_status ON notifications (tenant_id, status, id DESC);

-- Deleting a certificate checks its notices (the foreign key of notifications.certificate_id),
-- which had no index: each deleted certificate read the whole outbox, as certificates' own
-- foreign keys did before 0022. Nothing in the services deletes certificates, but the tests that
-- seed one (test_lists, test_lists_scale) delete theirs, and with 200,000 notices seeded beside
-- them (bench/seed --notifications) deleting 200,000 certificates read the outbox 200,000 times.
-- Only the user notices name a certificate.
CREATE INDEX notifications_certificate ON notifications (certificate_id) WHERE certificate_id IS NOT NULL;
