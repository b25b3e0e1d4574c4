-- 0026_certificate_counts: the 証明書一覧's totals kept by the writers (issue 12). Counting a
-- tenant's certificates to the exact threshold (10,001 rows) read 10,000 index entries, and for
-- the valid ones as many rows, on every first page. Triggers on certificates now add, per
-- statement, one row per (tenant, status) the statement changed by: the sum of a tenant's rows
-- is its number of certificates by status, read from a handful of rows however large the tenant.
-- Rows are only ever added by the writers (no row is updated, so concurrent statements never wait
-- for one another here); a reader folds a tenant's rows into one per status once there are many
-- (services/issue/queries.c, q_counts_fold). A statement that changes a certificate's CN or 発行日
-- without changing its status adds a row of 0: the tenant's newest row then says "a filtered
-- total counted before may be out of date" (the count cache, web/keyset.h keyset_count_gen).
CREATE TABLE certificate_counts (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL,
	status text NOT NULL,
	n bigint NOT NULL
);
CREATE INDEX certificate_counts_tenant ON certificate_counts (tenant_id, id);

CREATE FUNCTION certificate_counts_insert() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO certificate_counts (tenant_id, status, n)
		SELECT tenant_id, status, count(*) FROM new_rows GROUP BY tenant_id, status;
	RETURN NULL;
END $$;

CREATE FUNCTION certificate_counts_delete() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO certificate_counts (tenant_id, status, n)
		SELECT tenant_id, status, -count(*) FROM old_rows GROUP BY tenant_id, status;
	RETURN NULL;
END $$;

-- Only the rows whose status, CN or 発行日 changed count (most updates change none of them): each
-- such row adds one to its new status and takes one from its old (one join of the two tables).
CREATE FUNCTION certificate_counts_update() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO certificate_counts (tenant_id, status, n)
		SELECT d.tenant_id, d.status, sum(d.n)
		FROM new_rows n JOIN old_rows o ON o.id = n.id
		CROSS JOIN LATERAL (VALUES (n.tenant_id, n.status, 1), (o.tenant_id, o.status, -1))
			AS d (tenant_id, status, n)
		WHERE (n.status, n.cn, n.issued_at) IS DISTINCT FROM (o.status, o.cn, o.issued_at)
		GROUP BY d.tenant_id, d.status;
	RETURN NULL;
END $$;

CREATE TRIGGER certificate_counts_insert AFTER INSERT ON certificates
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION certificate_counts_insert();
CREATE TRIGGER certificate_counts_delete AFTER DELETE ON certificates
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION certificate_counts_delete();
CREATE TRIGGER certificate_counts_update AFTER UPDATE ON certificates
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION certificate_counts_update();

-- The certificates there are (the triggers hold writers off until this transaction commits).
INSERT INTO certificate_counts (tenant_id, status, n)
	SELECT tenant_id, status, count(*) FROM certificates GROUP BY tenant_id, status;
