-- 0001_init: the whole data model, designed once; later issues fill the tables.
-- Applied by `shomeictl migrate` inside one transaction and recorded in schema_migrations.

CREATE TABLE tenants (
	id bigserial PRIMARY KEY,
	slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	name_en text NOT NULL CHECK (length(name_en) BETWEEN 1 AND 200),
	domain text NOT NULL DEFAULT '',
	quota integer NOT NULL DEFAULT 0 CHECK (quota >= 0),
	features text[] NOT NULL DEFAULT '{}',
	key_type text NOT NULL DEFAULT 'rsa2048'
		CHECK (key_type IN ('rsa2048', 'rsa3072', 'p256')),
	p12_compat boolean NOT NULL DEFAULT false,
	default_validity_days integer NOT NULL DEFAULT 365 CHECK (default_validity_days BETWEEN 1 AND 3650),
	max_validity_days integer NOT NULL DEFAULT 1825 CHECK (max_validity_days BETWEEN 1 AND 3650),
	notify_users boolean NOT NULL DEFAULT false,
	download_allowlist cidr[] NOT NULL DEFAULT '{}',
	mobileconfig_embed_password boolean NOT NULL DEFAULT false,
	next_client_number integer NOT NULL DEFAULT 1 CHECK (next_client_number >= 1),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);

-- Certificate authorities: one root per installation, one administrator CA,
-- one issuing CA per tenant. The private key is a file encrypted under the
-- master key (key_file, relative to the CA directory); only shomei-signer
-- loads it while running.
CREATE TABLE cas (
	id bigserial PRIMARY KEY,
	kind text NOT NULL CHECK (kind IN ('root', 'admin', 'tenant')),
	tenant_id bigint REFERENCES tenants (id),
	parent_id bigint REFERENCES cas (id),
	subject text NOT NULL,
	serial text NOT NULL,
	cert_pem text NOT NULL,
	key_file text NOT NULL,
	not_before timestamptz NOT NULL,
	not_after timestamptz NOT NULL,
	crl_number bigint NOT NULL DEFAULT 0,
	active boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now(),
	CHECK ((kind = 'tenant') = (tenant_id IS NOT NULL))
);
CREATE UNIQUE INDEX cas_one_root ON cas (kind) WHERE kind IN ('root', 'admin') AND active;
CREATE UNIQUE INDEX cas_one_per_tenant ON cas (tenant_id) WHERE kind = 'tenant' AND active;

CREATE TABLE organizations (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenants (id),
	name text NOT NULL,
	UNIQUE (tenant_id, name)
);

CREATE TABLE admins (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenants (id),
	login_id text NOT NULL UNIQUE CHECK (login_id ~ '^[A-Za-z0-9._@-]{1,64}$'),
	password_hash text,
	name text NOT NULL DEFAULT '',
	disabled boolean NOT NULL DEFAULT false,
	password_changed_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admins_tenant ON admins (tenant_id);

-- Administrator client certificates (issued by the admin CA); login maps the
-- SHA-256 fingerprint nginx verified to the administrator.
CREATE TABLE admin_certificates (
	id bigserial PRIMARY KEY,
	admin_id bigint NOT NULL REFERENCES admins (id),
	ca_id bigint NOT NULL REFERENCES cas (id),
	serial text NOT NULL,
	fingerprint_sha256 text NOT NULL UNIQUE,
	subject text NOT NULL,
	not_before timestamptz NOT NULL,
	not_after timestamptz NOT NULL,
	cert_pem text NOT NULL,
	revoked_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (ca_id, serial)
);

CREATE TABLE users (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenants (id),
	organization_id bigint REFERENCES organizations (id),
	family_name text NOT NULL DEFAULT '',
	given_name text NOT NULL DEFAULT '',
	family_name_kana text NOT NULL DEFAULT '',
	given_name_kana text NOT NULL DEFAULT '',
	family_name_en text NOT NULL DEFAULT '',
	given_name_en text NOT NULL DEFAULT '',
	email text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now(),
	deleted_at timestamptz,          -- 1st delete (undoable)
	purged_at timestamptz,           -- 2nd delete
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_tenant ON users (tenant_id, id);

CREATE TABLE devices (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenants (id),
	user_id bigint NOT NULL REFERENCES users (id),
	device_code text NOT NULL CHECK (device_code IN ('01', '11', '12', '20', '99')),
	email text NOT NULL,
	valid_from timestamptz,
	valid_to timestamptz,
	o text,
	ou1 text,
	ou2 text,
	restriction_mode text NOT NULL DEFAULT 'none' CHECK (restriction_mode IN ('none', 'or', 'and')),
	restrict_mac text,
	restrict_computer text,
	restrict_login_user text,
	restrict_bios_serial text,
	created_at timestamptz NOT NULL DEFAULT now(),
	CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from < valid_to)
);
CREATE INDEX devices_user ON devices (tenant_id, user_id);

CREATE TABLE jobs (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenants (id),
	admin_id bigint REFERENCES admins (id),
	kind text NOT NULL CHECK (kind IN ('user_import', 'user_purge', 'revoke_csv', 'reissue_csv')),
	status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
	filename text NOT NULL DEFAULT '',
	admin_download boolean NOT NULL DEFAULT false,
	input bytea,
	total integer NOT NULL DEFAULT 0,
	processed integer NOT NULL DEFAULT 0,
	errors jsonb NOT NULL DEFAULT '[]',
	created_at timestamptz NOT NULL DEFAULT now(),
	started_at timestamptz,
	finished_at timestamptz
);
CREATE INDEX jobs_tenant ON jobs (tenant_id, id DESC);
CREATE INDEX jobs_queued ON jobs (id) WHERE status IN ('queued', 'running');

-- One row per certificate. The PKCS#12 is protected by its password, and the
-- password is stored only encrypted under the master key.
CREATE TABLE certificates (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenants (id),
	ca_id bigint REFERENCES cas (id),
	user_id bigint REFERENCES users (id),
	device_id bigint REFERENCES devices (id),
	job_id bigint REFERENCES jobs (id),
	replaces_id bigint REFERENCES certificates (id),
	number integer,                  -- client_NNNNNN numbering (desknet style)
	cn text NOT NULL,
	subject text NOT NULL DEFAULT '',
	email text,
	key_type text NOT NULL DEFAULT 'rsa2048',
	status text NOT NULL DEFAULT 'issuing'
		CHECK (status IN ('issuing', 'issued', 'downloaded', 'revoke_scheduled', 'revoked', 'failed')),
	serial text,                     -- hex, unique per CA
	cert_der bytea,
	p12 bytea,
	p12_password_enc bytea,
	not_before timestamptz,
	not_after timestamptz,
	issued_at timestamptz,
	downloaded_at timestamptz,
	revoke_on timestamptz,
	revoked_at timestamptz,
	revocation_reason integer,
	attempts integer NOT NULL DEFAULT 0,
	last_error text,
	claimed_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (ca_id, serial),
	UNIQUE (tenant_id, number)
);
CREATE INDEX certificates_tenant ON certificates (tenant_id, issued_at DESC, id DESC);
CREATE INDEX certificates_issuing ON certificates (id) WHERE status = 'issuing';
CREATE INDEX certificates_revoke_on ON certificates (revoke_on) WHERE status = 'revoke_scheduled';

-- The operation history (操作履歴). Written in the same transaction as the change it describes.
CREATE TABLE audit (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenants (id),
	at timestamptz NOT NULL DEFAULT now(),
	ip inet,
	actor_kind text NOT NULL CHECK (actor_kind IN ('admin', 'user', 'system', 'operator')),
	actor_id bigint,
	action text NOT NULL,
	detail text NOT NULL DEFAULT ''
);
CREATE INDEX audit_tenant_at ON audit (tenant_id, at DESC, id DESC);
CREATE INDEX audit_tenant_action ON audit (tenant_id, action, at DESC);

-- Mail outbox for notify_users (sent by a later issue's mailer).
CREATE TABLE notifications (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenants (id),
	to_addr text NOT NULL,
	subject text NOT NULL,
	body text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	sent_at timestamptz
);
