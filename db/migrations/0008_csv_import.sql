-- 0008: CSV一括登録 (NRA 4-2) as jobs. A job keeps the uploaded file as UTF-8 text (input), the
-- address it came from, how it was read, and how many certificates it makes; `processed` counts
-- the users committed, chunk by chunk, so a worker killed at any point resumes without
-- duplicates. Certificates made for the administrator's bulk download are marked. The optional
-- NRA columns サービス連携用ID and プリンシパル名 are kept on the device they came with.
ALTER TABLE jobs ADD COLUMN requested_ip text NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN encoding text NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN devices integer NOT NULL DEFAULT 0;
ALTER TABLE certificates ADD COLUMN admin_download boolean NOT NULL DEFAULT false;
ALTER TABLE devices ADD COLUMN service_id text;
ALTER TABLE devices ADD COLUMN principal_name text;
