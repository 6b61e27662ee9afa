-- patchbay store, SQLite dialect. Times are epoch milliseconds (INTEGER); ids are TEXT.
-- Keep in step with ../postgres/0001_initial.sql: same tables, columns and constraints.

CREATE TABLE store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE environments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'maker')),
    password_hash TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX users_environment ON users (environment_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE connectors (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    current_revision INTEGER NOT NULL,
    published_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (environment_id, name_key)
);
CREATE INDEX connectors_owner ON connectors (owner_id);
CREATE INDEX connectors_published ON connectors (published_at);

CREATE TRIGGER connectors_identity_immutable
BEFORE UPDATE OF environment_id, name, name_key ON connectors
WHEN OLD.environment_id IS NOT NEW.environment_id
  OR OLD.name IS NOT NEW.name
  OR OLD.name_key IS NOT NEW.name_key
BEGIN
    SELECT RAISE(ABORT, 'a connector''s name and environment cannot change');
END;

CREATE TABLE connector_revisions (
    connector_id TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    author_id TEXT NOT NULL REFERENCES users (id),
    api_definition TEXT NOT NULL,
    api_properties TEXT NOT NULL,
    script TEXT,
    icon BLOB,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (connector_id, revision)
);

CREATE TRIGGER connector_revisions_immutable
BEFORE UPDATE ON connector_revisions
BEGIN
    SELECT RAISE(ABORT, 'connector revisions are immutable');
END;

CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    connector_id TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL REFERENCES users (id),
    display_name TEXT NOT NULL,
    parameter_set TEXT,
    parameter_values TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('connected', 'unauthenticated', 'error')),
    status_message TEXT,
    tokens BLOB,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX connections_owner ON connections (owner_id);
CREATE INDEX connections_connector ON connections (connector_id);

CREATE TABLE connection_secrets (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    sealed BLOB NOT NULL,
    PRIMARY KEY (connection_id, name)
);

CREATE TABLE oauth_states (
    state TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    verifier TEXT NOT NULL,
    redirect TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);

CREATE TABLE grants (
    resource_kind TEXT NOT NULL CHECK (resource_kind IN ('connector', 'connection')),
    resource_id TEXT NOT NULL,
    grantee_kind TEXT NOT NULL CHECK (grantee_kind IN ('user', 'environment')),
    grantee_id TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('can_use', 'can_edit')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (resource_kind, resource_id, grantee_kind, grantee_id)
);
CREATE INDEX grants_grantee ON grants (grantee_kind, grantee_id);
