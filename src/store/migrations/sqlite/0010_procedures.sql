-- Judicialisation (issue 13): the procedure events EXPLOC exports, linked
-- to the circuit's cases. Personal content (identity, address, EXPLOC's
-- and the DDETS's references) only in the sealed column; what linking and
-- the figures need in clear (step, dates) or as keyed lookup keys.

-- A CDP's ref_cdp, as a keyed lookup key (never in clear): events name
-- their CDP by it. Cases of lists received before this migration get it
-- the first time procedure events are received.
ALTER TABLE cases ADD COLUMN ref_key TEXT;
CREATE INDEX cases_ref_key ON cases (ref_key);

-- One upload of procedure events, and what became of each of its lines
-- (JSON: line, effect, the uploader's token of the case, reason; no
-- personal data).
CREATE TABLE procedure_files (
    procedures_id TEXT PRIMARY KEY,
    period        TEXT NOT NULL,
    source        TEXT NOT NULL,
    sha256        TEXT NOT NULL UNIQUE,
    rows          INTEGER NOT NULL,
    linked        INTEGER NOT NULL,
    unlinked      INTEGER NOT NULL,
    repeated      INTEGER NOT NULL,
    result        TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

-- One event of a procedure. event_key: keyed key of (ref_procedure,
-- etape, date_etape), so that the same event sent again is recognised;
-- case_id: the case it is linked to (NULL: hors_circuit).
CREATE TABLE procedure_events (
    event_id      TEXT PRIMARY KEY,
    procedures_id TEXT NOT NULL,
    line          INTEGER NOT NULL,
    event_key     TEXT NOT NULL UNIQUE,
    case_id       TEXT REFERENCES cases (case_id),
    etape         TEXT NOT NULL,
    date_etape    TEXT NOT NULL,
    date_audience TEXT,
    sealed        BLOB NOT NULL,
    key_version   INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX procedure_events_case ON procedure_events (case_id);
CREATE INDEX procedure_events_date ON procedure_events (date_etape);
