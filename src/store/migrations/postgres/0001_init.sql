-- passerelle schema v1 (PostgreSQL). Times are epoch milliseconds (BIGINT).
-- Personal fields live only in `sealed` columns (XChaCha20-Poly1305).

CREATE TABLE lists (
    list_id     TEXT PRIMARY KEY,
    period      TEXT NOT NULL,
    source      TEXT NOT NULL,
    sha256      TEXT NOT NULL UNIQUE,
    rows        BIGINT NOT NULL,
    format      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE cases (
    case_id       TEXT PRIMARY KEY,
    list_id       TEXT NOT NULL REFERENCES lists (list_id),
    line          BIGINT NOT NULL,
    household     TEXT NOT NULL,
    subject       TEXT NOT NULL,
    date_cdp      TEXT NOT NULL,
    code_postal   TEXT NOT NULL,
    bailleur_type TEXT NOT NULL,
    state         TEXT NOT NULL,
    sealed        BYTEA NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX cases_list ON cases (list_id);
CREATE INDEX cases_household ON cases (household);

CREATE TABLE case_tokens (
    token       TEXT PRIMARY KEY,
    partner     TEXT NOT NULL,
    case_id     TEXT NOT NULL REFERENCES cases (case_id),
    created_at  BIGINT NOT NULL
);
CREATE INDEX case_tokens_case ON case_tokens (case_id, partner);

-- Which cases each outbox file holds (for the audit of its downloads).
CREATE TABLE file_cases (
    file_id     TEXT NOT NULL,
    case_id     TEXT NOT NULL REFERENCES cases (case_id),
    PRIMARY KEY (file_id, case_id)
);

CREATE TABLE outbox (
    file_id     TEXT PRIMARY KEY,
    partner     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    period      TEXT NOT NULL,
    list_id     TEXT,
    rows        BIGINT NOT NULL,
    format      TEXT NOT NULL,
    fields      TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    body        BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    acked_at    BIGINT
);
CREATE INDEX outbox_partner ON outbox (partner, acked_at);

CREATE TABLE audit_head (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    next_seq        BIGINT NOT NULL,
    prunable_below  BIGINT NOT NULL
);
INSERT INTO audit_head (id, next_seq, prunable_below) VALUES (1, 0, 0);

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
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
    seq         BIGINT NOT NULL,
    PRIMARY KEY (subject, seq)
);

CREATE FUNCTION audit_log_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit_log is append-only';
    END IF;
    IF OLD.seq >= (SELECT prunable_below FROM audit_head WHERE id = 1) THEN
        RAISE EXCEPTION 'audit_log entries are kept until retention releases them';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_guard();

CREATE FUNCTION audit_no_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit tables cannot be truncated';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate();
CREATE TRIGGER audit_subjects_no_truncate BEFORE TRUNCATE ON audit_subjects
    FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate();
