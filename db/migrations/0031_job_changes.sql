-- 0031_job_changes: the CSV 処理状況 (jobs) pages kept in Redis by the tenant's generation of its
-- jobs (web/pagecache.h), as the 操作履歴's are (0030). A job's row is written when it is queued,
-- at every chunk while it runs (processed, errors) and when it ends; a trigger adds, per
-- statement, one row per tenant written, and the tenant's newest row with its number of rows is
-- the generation (store/db.h, db_changes_gen). Readers fold a tenant's rows into one once there
-- are many. The functions have the shape of 0028's and 0030's: one function taking the table of
-- changes as its argument (EXECUTE format(...)) was measured at 65 µs a statement written against
-- 17 µs for these, on every history entry, so each table of changes keeps its own pair.
CREATE TABLE job_changes (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL
);
CREATE INDEX job_changes_tenant ON job_changes (tenant_id, id);

CREATE FUNCTION job_changes_new() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO job_changes (tenant_id) SELECT DISTINCT tenant_id FROM new_rows
		WHERE tenant_id IS NOT NULL;
	RETURN NULL;
END $$;

CREATE FUNCTION job_changes_old() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO job_changes (tenant_id) SELECT DISTINCT tenant_id FROM old_rows
		WHERE tenant_id IS NOT NULL;
	RETURN NULL;
END $$;

CREATE TRIGGER job_changes_insert AFTER INSERT ON jobs
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION job_changes_new();
CREATE TRIGGER job_changes_update AFTER UPDATE ON jobs
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION job_changes_new();
CREATE TRIGGER job_changes_delete AFTER DELETE ON jobs
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION job_changes_old();
