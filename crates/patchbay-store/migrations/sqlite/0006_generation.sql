-- patchbay store, SQLite dialect: the configuration generation. Every change to what a call or a
-- run reads before it starts (users and tokens, connectors, connections and their secrets, grants,
-- flows, gateways, the key-value table that holds connector client secrets) increments one counter, in the
-- same transaction as the change, so that any node can tell with one read whether what it keeps
-- in memory is still current (`Store::config_generation`). Runs, journals and trigger events are
-- not configuration: they never increment it.
-- Keep in step with ../postgres/0006_generation.sql.

CREATE TABLE config_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO config_generation (id, value) VALUES (1, 0);
CREATE TRIGGER users_insert_generation AFTER INSERT ON users BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER users_update_generation AFTER UPDATE ON users BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER users_delete_generation AFTER DELETE ON users BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER api_tokens_insert_generation AFTER INSERT ON api_tokens BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER api_tokens_update_generation AFTER UPDATE ON api_tokens BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER api_tokens_delete_generation AFTER DELETE ON api_tokens BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER connectors_insert_generation AFTER INSERT ON connectors BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER connectors_update_generation AFTER UPDATE ON connectors BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER connectors_delete_generation AFTER DELETE ON connectors BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER connector_revisions_insert_generation AFTER INSERT ON connector_revisions BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER connector_revisions_update_generation AFTER UPDATE ON connector_revisions BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER connector_revisions_delete_generation AFTER DELETE ON connector_revisions BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER connections_insert_generation AFTER INSERT ON connections BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER connections_update_generation AFTER UPDATE ON connections BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER connections_delete_generation AFTER DELETE ON connections BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER connection_secrets_insert_generation AFTER INSERT ON connection_secrets BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER connection_secrets_update_generation AFTER UPDATE ON connection_secrets BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER connection_secrets_delete_generation AFTER DELETE ON connection_secrets BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER grants_insert_generation AFTER INSERT ON grants BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER grants_update_generation AFTER UPDATE ON grants BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER grants_delete_generation AFTER DELETE ON grants BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER flows_insert_generation AFTER INSERT ON flows BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER flows_update_generation AFTER UPDATE ON flows BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER flows_delete_generation AFTER DELETE ON flows BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER flow_revisions_insert_generation AFTER INSERT ON flow_revisions BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER flow_revisions_update_generation AFTER UPDATE ON flow_revisions BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER flow_revisions_delete_generation AFTER DELETE ON flow_revisions BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER store_meta_insert_generation AFTER INSERT ON store_meta BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER store_meta_update_generation AFTER UPDATE ON store_meta BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER store_meta_delete_generation AFTER DELETE ON store_meta BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER gateways_insert_generation AFTER INSERT ON gateways BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER gateways_update_generation AFTER UPDATE ON gateways BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER gateways_delete_generation AFTER DELETE ON gateways BEGIN UPDATE config_generation SET value = value + 1 WHERE id = 1; END;
