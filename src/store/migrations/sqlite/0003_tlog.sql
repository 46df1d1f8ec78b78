-- The audit log as a transparency log: each entry links to the previous
-- one's leaf hash; signed checkpoints (C2SP tlog-checkpoint) of the Merkle
-- tree; leaf hashes of entries removed by retention, so the tree stays
-- verifiable after pruning.

ALTER TABLE audit_head ADD COLUMN last_leaf TEXT NOT NULL DEFAULT '';

CREATE TABLE audit_checkpoints (
    size        INTEGER PRIMARY KEY,
    root        TEXT NOT NULL,
    note        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE audit_pruned (
    seq         INTEGER PRIMARY KEY,
    leaf_hash   TEXT NOT NULL
);
