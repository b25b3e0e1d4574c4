-- 0021: renewal with the current certificate (issue 13, the download site's /dl/<slug>/renew).
-- The window in which a user may renew: from renew_before_days before the certificate's
-- 有効期限 until renew_after_days after it (DECISIONS.md, "Renewal with the current certificate").
ALTER TABLE tenants ADD COLUMN renew_before_days integer NOT NULL DEFAULT 30
	CHECK (renew_before_days BETWEEN 0 AND 3650);
ALTER TABLE tenants ADD COLUMN renew_after_days integer NOT NULL DEFAULT 30
	CHECK (renew_after_days BETWEEN 0 AND 3650);
