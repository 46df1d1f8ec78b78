-- A month's list is stored and routed as a stream (memory does not grow
-- with the list):
-- * an outbox file's age ciphertext in chunks, written as it is encrypted;
-- * its households found through its production's audit entry
--   (`produce_seq`), whose subject references a download copies;
-- * audit subject references ordered by entry, so an entry's count and
--   digest are read back in order; still found by subject for the DPO;
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

ALTER TABLE audit_subjects DROP CONSTRAINT audit_subjects_pkey;
ALTER TABLE audit_subjects ADD PRIMARY KEY (seq, subject);
CREATE INDEX audit_subjects_subject ON audit_subjects (subject);

DROP TABLE file_cases;
