-- A month's list is stored and routed as a stream (memory does not grow
-- with the list):
-- * an outbox file's age ciphertext in chunks, written as it is encrypted;
-- * its households found through its production's audit entry
--   (`produce_seq`), whose subject references a download copies;
-- * audit subject references ordered by entry, so an entry's count and
--   digest are read back in order; still found by subject for the DPO;
-- * one B-tree less per token (WITHOUT ROWID); the unused file_cases gone.

CREATE TABLE outbox_chunks (
    file_id     TEXT NOT NULL,
    n           INTEGER NOT NULL,
    bytes       BLOB NOT NULL,
    PRIMARY KEY (file_id, n)
);
INSERT INTO outbox_chunks (file_id, n, bytes) SELECT file_id, 0, body FROM outbox;
ALTER TABLE outbox ADD COLUMN produce_seq INTEGER;
UPDATE outbox SET produce_seq = (
    SELECT MIN(seq) FROM audit_log
    WHERE action = 'file.produce' AND entry LIKE '%"file:' || outbox.file_id || '"%'
);
ALTER TABLE outbox DROP COLUMN body;
ALTER TABLE outbox DROP COLUMN subjects;

CREATE TABLE audit_subjects_by_seq (
    seq         INTEGER NOT NULL,
    subject     TEXT NOT NULL,
    PRIMARY KEY (seq, subject)
) WITHOUT ROWID;
INSERT INTO audit_subjects_by_seq (seq, subject) SELECT seq, subject FROM audit_subjects;
DROP TABLE audit_subjects;
ALTER TABLE audit_subjects_by_seq RENAME TO audit_subjects;
CREATE INDEX audit_subjects_subject ON audit_subjects (subject);
CREATE TRIGGER audit_subjects_no_update BEFORE UPDATE ON audit_subjects
BEGIN SELECT RAISE(ABORT, 'audit_subjects is append-only'); END;

CREATE TABLE case_tokens_new (
    token       TEXT PRIMARY KEY,
    partner     TEXT NOT NULL,
    case_id     TEXT NOT NULL REFERENCES cases (case_id),
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO case_tokens_new (token, partner, case_id, created_at)
    SELECT token, partner, case_id, created_at FROM case_tokens;
DROP TABLE case_tokens;
ALTER TABLE case_tokens_new RENAME TO case_tokens;
CREATE INDEX case_tokens_case ON case_tokens (case_id, partner);

DROP TABLE file_cases;
