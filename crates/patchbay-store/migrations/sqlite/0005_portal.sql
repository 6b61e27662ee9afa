-- patchbay store, SQLite dialect: portal sign-in sessions (stored, so every server node knows them
-- and sign-out ends them everywhere). Only the SHA-256 of the session cookie is kept.
-- Keep in step with ../postgres/0005_portal.sql.

CREATE TABLE portal_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The session's anti-forgery token, sent back in every portal form.
    csrf TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at);
