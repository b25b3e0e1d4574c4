-- 0022_certificate_fk_indexes: the indexes behind certificates' foreign keys to jobs and users
-- (issue 12). Deleting a job or a user makes PostgreSQL look for certificates that still refer to
-- it (job_id = $1, user_id = $1); without an index of its own each column was found by reading
-- every certificate of every tenant (certificates_user leads with tenant_id, which that check
-- does not give). Most certificates come from no CSV job: only the rows that name one are kept.
CREATE INDEX certificates_job ON certificates (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX certificates_user_fk ON certificates (user_id) WHERE user_id IS NOT NULL;
