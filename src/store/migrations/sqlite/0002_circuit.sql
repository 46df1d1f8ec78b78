-- The monthly circuit: returns, enrichment, members' answers, concertations,
-- decisions, follow-up events. Personal content only in sealed columns.

CREATE TABLE returns (
    return_id   TEXT PRIMARY KEY,
    partner     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    applied     INTEGER NOT NULL,
    result      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (partner, kind, sha256)
);

CREATE TABLE enrichments (
    case_id     TEXT PRIMARY KEY REFERENCES cases (case_id),
    return_id   TEXT NOT NULL,
    sealed      BLOB NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE member_answers (
    case_id         TEXT NOT NULL REFERENCES cases (case_id),
    partner         TEXT NOT NULL,
    referent_connu  INTEGER NOT NULL,
    organisme       TEXT,
    sealed          BLOB,
    return_id       TEXT NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (case_id, partner)
);

CREATE TABLE concertations (
    concertation_id TEXT PRIMARY KEY,
    date            TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE agenda (
    concertation_id TEXT NOT NULL REFERENCES concertations (concertation_id),
    case_id         TEXT NOT NULL REFERENCES cases (case_id),
    proposal        TEXT,
    non_traite      TEXT,
    reason          TEXT NOT NULL,
    referent_connu  TEXT,
    PRIMARY KEY (concertation_id, case_id)
);

CREATE TABLE decisions (
    case_id         TEXT PRIMARY KEY REFERENCES cases (case_id),
    concertation_id TEXT NOT NULL,
    organisme       TEXT,
    non_traite      TEXT,
    nouvelle        INTEGER NOT NULL,
    decided_at      INTEGER NOT NULL
);

CREATE TABLE events (
    event_id    TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases (case_id),
    partner     TEXT NOT NULL,
    date        TEXT NOT NULL,
    evenement   TEXT NOT NULL,
    motif       TEXT,
    sealed      BLOB,
    return_id   TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX events_case ON events (case_id);
