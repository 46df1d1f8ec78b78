-- The audit log's tables hold what the DPO relies on (issue 10, items 1
-- and 13):
-- * an entry's household set (`audit_subjects`) is never updated and is
--   deleted only with the last entry naming it, once retention released
--   that entry; `audit verify` checks each set against the count and
--   digest committed in its entry;
-- * an entry is deleted only by retention: below `prunable_below` and with
--   its leaf hash kept in `audit_pruned` first;
-- * pruned leaves and signed checkpoints are never updated or deleted;
-- * the head's counters never go back;
-- * `instance_keys`: fingerprints of the keys of the first instance that
--   opened the database (never a secret), so that an instance with other
--   keys refuses to start.

CREATE TRIGGER audit_subjects_no_delete BEFORE DELETE ON audit_subjects
WHEN OLD.set_id >= (SELECT prunable_below FROM audit_head WHERE id = 1)
  OR EXISTS (SELECT 1 FROM audit_log WHERE subjects_set = OLD.set_id)
BEGIN SELECT RAISE(ABORT, 'audit_subjects sets are kept while an entry names them'); END;

DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.seq >= (SELECT prunable_below FROM audit_head WHERE id = 1)
  OR NOT EXISTS (SELECT 1 FROM audit_pruned WHERE seq = OLD.seq AND leaf_hash = OLD.leaf_hash)
BEGIN SELECT RAISE(ABORT, 'audit_log entries are kept until retention releases them'); END;

CREATE TRIGGER audit_pruned_no_update BEFORE UPDATE ON audit_pruned
BEGIN SELECT RAISE(ABORT, 'audit_pruned is append-only'); END;
CREATE TRIGGER audit_pruned_no_delete BEFORE DELETE ON audit_pruned
BEGIN SELECT RAISE(ABORT, 'audit_pruned is append-only'); END;

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;

CREATE TRIGGER audit_head_no_rewind BEFORE UPDATE ON audit_head
WHEN NEW.id <> OLD.id OR NEW.next_seq < OLD.next_seq OR NEW.prunable_below < OLD.prunable_below
BEGIN SELECT RAISE(ABORT, 'audit_head counters never go back'); END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'audit_head is kept'); END;

CREATE TABLE instance_keys (
    name        TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    file        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE TRIGGER instance_keys_no_update BEFORE UPDATE ON instance_keys
BEGIN SELECT RAISE(ABORT, 'instance_keys is append-only'); END;
CREATE TRIGGER instance_keys_no_delete BEFORE DELETE ON instance_keys
BEGIN SELECT RAISE(ABORT, 'instance_keys is append-only'); END;
