-- An outbox file's households, as the keyed references its audit entries
-- carry, stored with the file (one row instead of one per case).
ALTER TABLE outbox ADD COLUMN subjects TEXT NOT NULL DEFAULT '';
