-- 0009_ocsp: pre-signed OCSP responses (issue 10). One row per certificate of a tenant CA: the
-- whole OCSPResponse (DER, SHA-1 CertID as RFC 5019 asks) saying good or revoked, signed by the
-- tenant's issuing CA through shomei-signer. shomei-revoke's publisher signs a certificate's
-- response again when its status changes (a revocation's NOTIFY) and before next_update comes
-- near, so answering /ocsp is a lookup (services/revoke/presign.c, ocsp.c). `revoked` is what
-- the stored response says; a revocation is final, so a stored revoked response is never
-- replaced by a good one.
CREATE TABLE ocsp_responses (
	ca_id bigint NOT NULL REFERENCES cas (id),
	serial text NOT NULL,
	revoked boolean NOT NULL,
	der bytea NOT NULL,
	this_update timestamptz NOT NULL,
	next_update timestamptz NOT NULL,
	signed_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (ca_id, serial),
	CHECK (this_update < next_update)
);
ALTER TABLE ocsp_responses ALTER COLUMN der SET STORAGE EXTERNAL;
-- the publisher's sweep: responses that expire soon
CREATE INDEX ocsp_responses_next_update ON ocsp_responses (next_update);
