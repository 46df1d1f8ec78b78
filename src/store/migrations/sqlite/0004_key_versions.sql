-- Pseudonymisation key rotation: each case keeps the key version it was
-- created with (its tokens, household token and sealing).
ALTER TABLE cases ADD COLUMN key_version INTEGER NOT NULL DEFAULT 1;
