-- 0003: the PKCS#12, its sealed password and the DER are encrypted or already compact: store them
-- out of line without pglz, which spent CPU on every issued certificate trying to compress
-- incompressible bytes (bench/issue, 2026-11-22).
ALTER TABLE certificates ALTER COLUMN p12 SET STORAGE EXTERNAL;
ALTER TABLE certificates ALTER COLUMN p12_password_enc SET STORAGE EXTERNAL;
ALTER TABLE certificates ALTER COLUMN cert_der SET STORAGE EXTERNAL;
