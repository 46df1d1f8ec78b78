-- A month's list is stored and routed as a stream (memory does not grow
-- with the list):
-- * an outbox file's age ciphertext in chunks, written as it is encrypted;
-- * audit subject references kept as sets, in the order they were
--   written (an entry's count and digest are computed as they go): the
--   upload of a list, the production of a file holding all of it and each
--   download of that file name one set (`audit_log.subjects_set`) instead
--   of each copying the list's households; the DPO still finds entries by
--   subject. A file's production entry is `outbox.produce_seq`;
-- * the unused file_cases gone.

CREATE TABLE outbox_chunks (
    file_id     TEXT NOT NULL,
    n           BIGINT NOT NULL,
    bytes       BYTEA NOT NULL,
    PRIMARY KEY (file_id, n)
);
INSERT INTO outbox_chunks (file_id, n, bytes) SELECT file_id, 0, body FROM outbox;
ALTER TABLE outbox ADD COLUMN produce_seq BIGINT;
UPDATE outbox SET produce_seq = (
    SELECT MIN(seq) FROM audit_log
    WHERE action = 'file.produce' AND entry LIKE '%"file:' || outbox.file_id || '"%'
);
ALTER TABLE outbox DROP COLUMN body, DROP COLUMN subjects;

CREATE TABLE audit_subject_sets (
    set_id      BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    subject     TEXT NOT NULL,
    PRIMARY KEY (set_id, n)
);
INSERT INTO audit_subject_sets (set_id, n, subject)
    SELECT seq, ROW_NUMBER() OVER (PARTITION BY seq ORDER BY subject COLLATE "C"), subject FROM audit_subjects;
ALTER TABLE audit_log ADD COLUMN subjects_set BIGINT;
ALTER TABLE audit_log DISABLE TRIGGER audit_log_guard;
UPDATE audit_log SET subjects_set = seq WHERE seq IN (SELECT seq FROM audit_subjects);
ALTER TABLE audit_log ENABLE TRIGGER audit_log_guard;
DROP TABLE audit_subjects;
ALTER TABLE audit_subject_sets RENAME TO audit_subjects;
CREATE INDEX audit_subjects_subject ON audit_subjects (subject);
CREATE INDEX audit_log_subjects_set ON audit_log (subjects_set);
CREATE TRIGGER audit_subjects_no_truncate BEFORE TRUNCATE ON audit_subjects
    FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate();

DROP TABLE file_cases;
