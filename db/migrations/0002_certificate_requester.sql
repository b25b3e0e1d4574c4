-- 0002_certificate_requester: who asked for a certificate and from where, so the history entry
-- written when a worker finishes it carries the administrator's address (as the manual shows).
ALTER TABLE certificates ADD COLUMN requested_by bigint REFERENCES admins (id);
ALTER TABLE certificates ADD COLUMN requested_ip inet;
CREATE INDEX certificates_user ON certificates (tenant_id, user_id);
