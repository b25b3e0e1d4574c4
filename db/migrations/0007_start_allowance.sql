-- 0007: how far ahead a certificate's validity may start (利用者の証明書有効期限(From)), per
-- tenant. The users service refuses a From date beyond it and shomei-signer refuses to sign a
-- certificate whose notBefore is further ahead (DECISIONS.md, "Signer callers").
ALTER TABLE tenants ADD COLUMN max_start_ahead_days integer NOT NULL DEFAULT 365
	CHECK (max_start_ahead_days BETWEEN 0 AND 3650);
