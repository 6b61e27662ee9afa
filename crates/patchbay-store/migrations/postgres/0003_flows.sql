-- patchbay store, PostgreSQL dialect: flows (workflow definitions with every revision kept), their
-- durable runs (a queue with leases and fencing tokens) and each run's journal of actions.
-- Times are epoch milliseconds (BIGINT); JSON is TEXT (key order kept).
-- Keep in step with ../sqlite/0003_flows.sql: same tables, columns and constraints.

CREATE TABLE flows (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    -- The current revision; its definition and connections are in flow_revisions.
    revision BIGINT NOT NULL CHECK (revision >= 1),
    -- Most runs Running at once; NULL: no limit.
    concurrency BIGINT CHECK (concurrency IS NULL OR concurrency >= 1),
    enabled BOOLEAN NOT NULL,
    trigger_id TEXT REFERENCES triggers (id) ON DELETE SET NULL,
    -- The seq of the last trigger event that became a run.
    event_cursor BIGINT NOT NULL DEFAULT 0,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    UNIQUE (environment_id, name_key)
);
CREATE INDEX flows_owner ON flows (owner_id);
CREATE INDEX flows_trigger ON flows (trigger_id) WHERE trigger_id IS NOT NULL;

CREATE TABLE flow_revisions (
    flow_id TEXT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    revision BIGINT NOT NULL,
    definition TEXT NOT NULL,
    connections TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (flow_id, revision)
);

CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    flow_id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('Queued', 'Running', 'Waiting', 'Succeeded', 'Failed', 'Cancelled', 'Skipped')),
    -- The trigger outputs: {"headers": …, "body": …}.
    trigger_outputs TEXT NOT NULL,
    event_seq BIGINT,
    idempotency_key TEXT,
    wake_ms BIGINT,
    lease_owner TEXT,
    lease_until_ms BIGINT,
    -- Fencing token: incremented by every claim; every write of the run's worker must present it.
    lease_token BIGINT NOT NULL DEFAULT 0,
    attempts BIGINT NOT NULL DEFAULT 0,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    error TEXT,
    response TEXT,
    outputs TEXT,
    created_ms BIGINT NOT NULL,
    started_ms BIGINT,
    ended_ms BIGINT,
    FOREIGN KEY (flow_id, revision) REFERENCES flow_revisions (flow_id, revision) ON DELETE CASCADE,
    UNIQUE (flow_id, idempotency_key),
    UNIQUE (flow_id, event_seq)
);
CREATE INDEX runs_flow_created ON runs (flow_id, created_ms, id);
-- Claims: each flow's unfinished runs in age order, and its running ones.
CREATE INDEX runs_unfinished ON runs (flow_id, created_ms, id) WHERE status IN ('Queued', 'Waiting', 'Running');
CREATE INDEX runs_running ON runs (flow_id, lease_until_ms) WHERE status = 'Running';

CREATE TABLE run_actions (
    -- The order in which actions were first recorded.
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    -- "Name", or "Name#0.2" for a loop iteration.
    action_key TEXT NOT NULL,
    name TEXT NOT NULL,
    -- JSON array of loop indexes.
    iteration TEXT NOT NULL,
    status TEXT NOT NULL,
    inputs TEXT NOT NULL,
    outputs TEXT NOT NULL,
    error TEXT,
    started_ms BIGINT NOT NULL,
    ended_ms BIGINT,
    attempts BIGINT NOT NULL,
    -- The state of a waiting action (202 Location, wake time), JSON.
    pending TEXT,
    UNIQUE (run_id, action_key)
);
