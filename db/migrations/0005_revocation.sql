-- 0005_revocation: revocation of tenant certificates (issue 10).
-- crls: the CRL each CA published last, one row per CA (root, administrator and tenant CAs), so
-- that every shomei-revoke serves the same bytes from PostgreSQL. `entries` is how many revoked
-- certificates it lists: a revocation is final, so a CRL is stale when the count of the CA's
-- revoked certificates differs (services/revoke/publisher.c, domain/crlpub.c).
CREATE TABLE crls (
	ca_id bigint PRIMARY KEY REFERENCES cas (id),
	number bigint NOT NULL CHECK (number >= 0),
	der bytea NOT NULL,
	entries integer NOT NULL DEFAULT 0 CHECK (entries >= 0),
	this_update timestamptz NOT NULL,
	next_update timestamptz NOT NULL,
	published_at timestamptz NOT NULL DEFAULT now(),
	CHECK (this_update < next_update)
);
ALTER TABLE crls ALTER COLUMN der SET STORAGE EXTERNAL;

-- a CRL lists the revoked certificates of its CA
CREATE INDEX certificates_revoked ON certificates (ca_id) WHERE status = 'revoked';

-- RFC 5280 CRLReason codes shomei writes: unspecified (0), keyCompromise (1),
-- affiliationChanged (3), superseded (4), cessationOfOperation (5), privilegeWithdrawn (9)
ALTER TABLE certificates ADD CONSTRAINT certificates_revocation_reason
	CHECK (revocation_reason IS NULL OR revocation_reason IN (0, 1, 3, 4, 5, 9));
