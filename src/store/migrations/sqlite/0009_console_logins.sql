-- The console's OpenID Connect sign-ins under way (issue 11): between the
-- browser leaving for the provider and coming back, what the gateway must
-- check on its return. Named by the SHA-256 of the short-lived cookie the
-- browser carries (never the cookie itself); taken (deleted) on the first
-- return, so that a return is honoured once; older than ten minutes,
-- refused and deleted.
CREATE TABLE console_logins (
    id_sha256     TEXT PRIMARY KEY,
    -- The `state` sent to the provider, compared with the one it returns.
    state         TEXT NOT NULL,
    -- The `nonce` the ID token must carry.
    nonce         TEXT NOT NULL,
    -- The PKCE verifier of the code challenge sent.
    pkce_verifier TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX console_logins_created_at ON console_logins (created_at);
