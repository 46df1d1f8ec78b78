-- passerelle schema v1 (SQLite). Times are epoch milliseconds (INTEGER).
-- Personal fields live only in `sealed` columns (XChaCha20-Poly1305).

CREATE TABLE lists (
    list_id     TEXT PRIMARY KEY,
    period      TEXT NOT NULL,
    source      TEXT NOT NULL,
    sha256      TEXT NOT NULL UNIQUE,
    rows        INTEGER NOT NULL,
    format      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE cases (
    case_id       TEXT PRIMARY KEY,
    list_id       TEXT NOT NULL REFERENCES lists (list_id),
    line          INTEGER NOT NULL,
    household     TEXT NOT NULL,
    subject       TEXT NOT NULL,
    date_cdp      TEXT NOT NULL,
    code_postal   TEXT NOT NULL,
    bailleur_type TEXT NOT NULL,
    state         TEXT NOT NULL,
    sealed        BLOB NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX cases_list ON cases (list_id);
CREATE INDEX cases_household ON cases (household);

-- Every token shown to a partner.
CREATE TABLE case_tokens (
    token       TEXT PRIMARY KEY,
    partner     TEXT NOT NULL,
    case_id     TEXT NOT NULL REFERENCES cases (case_id),
    created_at  INTEGER NOT NULL
);
CREATE INDEX case_tokens_case ON case_tokens (case_id, partner);

-- Which cases each outbox file holds (for the audit of its downloads).
CREATE TABLE file_cases (
    file_id     TEXT NOT NULL,
    case_id     TEXT NOT NULL REFERENCES cases (case_id),
    PRIMARY KEY (file_id, case_id)
);

-- Files waiting for partners: age ciphertext only.
CREATE TABLE outbox (
    file_id     TEXT PRIMARY KEY,
    partner     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    period      TEXT NOT NULL,
    list_id     TEXT,
    rows        INTEGER NOT NULL,
    format      TEXT NOT NULL,
    fields      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    body        BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    acked_at    INTEGER
);
CREATE INDEX outbox_partner ON outbox (partner, acked_at);

-- The access log. Append-only: entries are never updated; only entries
-- below audit_head.prunable_below may be deleted (retention).
CREATE TABLE audit_head (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    next_seq        INTEGER NOT NULL,
    prunable_below  INTEGER NOT NULL
);
INSERT INTO audit_head (id, next_seq, prunable_below) VALUES (1, 0, 0);

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    partner     TEXT,
    action      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    entry       TEXT NOT NULL,
    leaf_hash   TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_partner ON audit_log (partner, at);

CREATE TABLE audit_subjects (
    subject     TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (subject, seq)
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.seq >= (SELECT prunable_below FROM audit_head WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'audit_log entries are kept until retention releases them'); END;
CREATE TRIGGER audit_subjects_no_update BEFORE UPDATE ON audit_subjects
BEGIN SELECT RAISE(ABORT, 'audit_subjects is append-only'); END;
