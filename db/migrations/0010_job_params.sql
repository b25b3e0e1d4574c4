-- 0010: a job's own settings (CSV一括失効's revoke_on and reason), as JSON.
ALTER TABLE jobs ADD COLUMN params jsonb NOT NULL DEFAULT '{}';
