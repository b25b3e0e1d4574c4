-- 0012: 再発行 (NRA 6). A reissue revokes the old certificate (now or on a date) and queues a new
-- one for the same user and device; the old row gets superseded_at, and the new one names it in
-- replaces_id. A numbered certificate keeps its client_NNNNNN number, so the number is unique
-- only among the certificates not superseded; a superseded one cannot be reissued again (two
-- valid certificates would come out of one).
ALTER TABLE certificates ADD COLUMN superseded_at timestamptz;
ALTER TABLE certificates DROP CONSTRAINT certificates_tenant_id_number_key;
CREATE UNIQUE INDEX certificates_number ON certificates (tenant_id, number)
	WHERE number IS NOT NULL AND superseded_at IS NULL;
