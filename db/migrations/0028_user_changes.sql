-- 0028_user_changes: the 利用者 list's filtered totals kept until something they count changes
-- (issue 12). A total up to 10,000 (an exact one) was counted again on every first page so that a
-- user added or changed showed at once: a rare e-mail (tanaka.yui, 83 users of 500,000) gathered
-- its matches from two trigram indexes twice a request, once for the page and once for the count
-- (94 ms of PostgreSQL a request), a 有効期限 fortnight 70 ms.
--
-- Triggers on users and devices now add, per statement, one row per tenant it wrote: the tenant's
-- newest row and its number of rows, beside the same of certificate_counts (0026), make the
-- generation the count cache keys a total with (web/keyset.h keyset_count_gen): any write that
-- could change what a filter counts moves it, and the next request counts afresh. As with
-- certificate_counts, rows are only added by the writers (concurrent writers never wait for one
-- another here) and a reader folds a tenant's rows into one once there are many
-- (common/domain/certq.c, certq_list_gen).
CREATE TABLE user_changes (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL
);
CREATE INDEX user_changes_tenant ON user_changes (tenant_id, id);

CREATE FUNCTION user_changes_new() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO user_changes (tenant_id) SELECT DISTINCT tenant_id FROM new_rows;
	RETURN NULL;
END $$;

CREATE FUNCTION user_changes_old() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO user_changes (tenant_id) SELECT DISTINCT tenant_id FROM old_rows;
	RETURN NULL;
END $$;

CREATE TRIGGER user_changes_insert AFTER INSERT ON users
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_changes_new();
CREATE TRIGGER user_changes_update AFTER UPDATE ON users
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_changes_new();
CREATE TRIGGER user_changes_delete AFTER DELETE ON users
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION user_changes_old();
CREATE TRIGGER user_changes_insert AFTER INSERT ON devices
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_changes_new();
CREATE TRIGGER user_changes_update AFTER UPDATE ON devices
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_changes_new();
CREATE TRIGGER user_changes_delete AFTER DELETE ON devices
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION user_changes_old();

-- A certificate's 有効期限, user and device, which the 利用者 list's certificate conditions read,
-- move certificate_counts too: migration 0029 (with every other column a list shows).
