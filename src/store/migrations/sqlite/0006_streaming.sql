-- A month's list is stored and routed as a stream (memory does not grow
-- with the list):
-- * an outbox file's age ciphertext in chunks, written as it is encrypted;
-- * audit subject references kept as sets, in the order they were
--   written (an entry's count and digest are computed as they go): the
--   upload of a list, the production of a file holding all of it and each
--   download of that file name one set (`audit_log.subjects_set`) instead
--   of each copying the list's households; the DPO still finds entries by
--   subject. A file's production entry is `outbox.produce_seq`;
-- * fewer B-trees written per case: a token stored in its case's order
--   (WITHOUT ROWID, unique by token), cases found by list through their
--   line-ordered ids (`cas_<list>_<line>`) instead of a list index;
-- * the unused file_cases gone.

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

CREATE TABLE audit_subject_sets (
    set_id      INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    subject     TEXT NOT NULL,
    PRIMARY KEY (set_id, n)
) WITHOUT ROWID;
INSERT INTO audit_subject_sets (set_id, n, subject)
    SELECT seq, ROW_NUMBER() OVER (PARTITION BY seq ORDER BY subject), subject FROM audit_subjects;
ALTER TABLE audit_log ADD COLUMN subjects_set INTEGER;
DROP TRIGGER audit_log_no_update;
UPDATE audit_log SET subjects_set = seq WHERE seq IN (SELECT seq FROM audit_subjects);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
DROP TABLE audit_subjects;
ALTER TABLE audit_subject_sets RENAME TO audit_subjects;
CREATE INDEX audit_subjects_subject ON audit_subjects (subject);
CREATE INDEX audit_log_subjects_set ON audit_log (subjects_set);
CREATE TRIGGER audit_subjects_no_update BEFORE UPDATE ON audit_subjects
BEGIN SELECT RAISE(ABORT, 'audit_subjects is append-only'); END;

CREATE TABLE case_tokens_new (
    token       TEXT NOT NULL,
    partner     TEXT NOT NULL,
    case_id     TEXT NOT NULL REFERENCES cases (case_id),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (case_id, partner, token)
) WITHOUT ROWID;
INSERT INTO case_tokens_new (token, partner, case_id, created_at)
    SELECT token, partner, case_id, created_at FROM case_tokens;
DROP TABLE case_tokens;
ALTER TABLE case_tokens_new RENAME TO case_tokens;
CREATE UNIQUE INDEX case_tokens_token ON case_tokens (token);

DROP INDEX cases_list;

DROP TABLE file_cases;
