-- The console's sessions (issue 11): kept in the database so that several
-- instances share them. A session is named by the SHA-256 of its cookie
-- (the cookie itself is never stored: a copy of the database opens no
-- session). Times are epoch milliseconds; a session idle for longer than
-- the configured delay is refused and deleted.
CREATE TABLE console_sessions (
    id_sha256  TEXT PRIMARY KEY,
    person     TEXT NOT NULL,
    -- How the person signed in: 'certificate' or 'oidc'.
    method     TEXT NOT NULL,
    -- The SHA-256 of the certificate the session was opened with ('' for OIDC).
    cert_sha256 TEXT NOT NULL,
    -- The token every POST form of the session carries (hidden input `csrf`).
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen);
