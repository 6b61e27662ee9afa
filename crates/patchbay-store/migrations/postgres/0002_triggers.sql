-- patchbay store, PostgreSQL dialect: triggers (polling schedule with leases, durable events, webhook
-- subscriptions). Times are epoch milliseconds (BIGINT); JSON is TEXT (key order kept).
-- Keep in step with ../sqlite/0002_triggers.sql: same tables, columns and constraints.

CREATE TABLE triggers (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL REFERENCES users (id),
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    operation_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('polling', 'webhook')),
    inputs TEXT NOT NULL,
    recurrence_ms BIGINT NOT NULL CHECK (recurrence_ms >= 0),
    split_on TEXT,
    dedup_path TEXT,
    enabled BOOLEAN NOT NULL,
    -- The polling state (JSON), NULL until the first poll.
    state TEXT,
    next_due_ms BIGINT,
    lease_owner TEXT,
    lease_until_ms BIGINT,
    -- Fencing token: incremented by every claim; a completion must present the current one.
    lease_token BIGINT NOT NULL DEFAULT 0,
    last_poll_ms BIGINT,
    last_status TEXT,
    last_error TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX triggers_environment ON triggers (environment_id);
CREATE INDEX triggers_connection ON triggers (connection_id);
CREATE INDEX triggers_due ON triggers (next_due_ms) WHERE next_due_ms IS NOT NULL;

CREATE TABLE trigger_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    trigger_id TEXT NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
    source TEXT NOT NULL CHECK (source IN ('poll', 'webhook')),
    received_ms BIGINT NOT NULL,
    headers TEXT NOT NULL,
    body TEXT NOT NULL,
    dedup_key TEXT,
    UNIQUE (trigger_id, dedup_key)
);
CREATE INDEX trigger_events_trigger ON trigger_events (trigger_id, seq);

CREATE TABLE trigger_subscriptions (
    id TEXT PRIMARY KEY,
    trigger_id TEXT NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
    -- Hexadecimal SHA-256 of the callback secret; NULL once the subscription is dead.
    secret_hash TEXT,
    location TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'removed', 'remove_failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX trigger_subscriptions_trigger ON trigger_subscriptions (trigger_id);
