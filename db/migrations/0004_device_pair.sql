-- 0004: registration refuses a device whose (e-mail, device code) pair a device of another user
-- of the tenant, not deleted, already has (services/users/register.c, under the tenant's lock).
-- A unique index cannot say it: deletion is a column of users, and existing rows may repeat a
-- pair. This index serves the check (users_device_pair).
CREATE INDEX devices_pair ON devices (tenant_id, device_code, lower(email));
