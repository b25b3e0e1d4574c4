-- 0010: a job's own settings (CSV一括失効's revoke_on and reason), as JSON.
ALTER TABLE jobs ADD COLUMN params jsonb NOT NULL DEFAULT '{}';
-- CSV一括失効 finds certificates by common name, or by the user's e-mail and the device's.
CREATE INDEX certificates_cn ON certificates (tenant_id, cn);
CREATE INDEX users_email ON users (tenant_id, lower(email));
-- The foreign key certificates.replaces_id needs an index, or deleting certificate rows scans
-- the table for each one (bench/revoke's scratch rows took minutes).
CREATE INDEX certificates_replaces ON certificates (replaces_id) WHERE replaces_id IS NOT NULL;
