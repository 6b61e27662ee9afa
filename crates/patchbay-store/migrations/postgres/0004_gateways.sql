-- patchbay store, PostgreSQL dialect: on-premises gateways. A gateway is a named cluster of
-- agents in one environment that share one token (only its SHA-256 hash is kept); a connection
-- bound to a gateway has every backend call carried through one of its agents.
-- Keep in step with ../sqlite/0004_gateways.sql: same tables, columns and constraints.

CREATE TABLE gateways (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    UNIQUE (environment_id, name_key)
);

ALTER TABLE connections ADD COLUMN gateway_id TEXT REFERENCES gateways (id) ON DELETE SET NULL;
CREATE INDEX connections_gateway ON connections (gateway_id);

-- Which node holds agents of which gateway (several nodes: a call is forwarded to such a node).
-- Refreshed while the agents stay connected; a row not seen for a while is stale.
CREATE TABLE gateway_presence (
    gateway_id TEXT NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    node_url TEXT NOT NULL,
    agents BIGINT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (gateway_id, node_url)
);
