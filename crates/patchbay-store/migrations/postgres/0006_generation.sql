-- patchbay store, PostgreSQL dialect: the configuration generation. Every change to what a call or
-- a run reads before it starts (users and tokens, connectors, connections and their secrets, grants,
-- flows, gateways, the key-value table that holds connector client secrets) increments one counter, in the
-- same transaction as the change, so that any node can tell with one read whether what it keeps
-- in memory is still current (`Store::config_generation`). Runs, journals and trigger events are
-- not configuration: they never increment it. One increment per statement.
-- Keep in step with ../sqlite/0006_generation.sql.

CREATE TABLE config_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO config_generation (id, value) VALUES (1, 0);

CREATE FUNCTION bump_config_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE config_generation SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER users_generation AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH STATEMENT EXECUTE FUNCTION bump_config_generation();
CREATE TRIGGER api_tokens_generation AFTER INSERT OR UPDATE OR DELETE ON api_tokens FOR EACH STATEMENT EXECUTE FUNCTION bump_config_generation();
CREATE TRIGGER connectors_generation AFTER INSERT OR UPDATE OR DELETE ON connectors FOR EACH STATEMENT EXECUTE FUNCTION bump_config_generation();
CREATE TRIGGER connector_revisions_generation AFTER INSERT OR UPDATE OR DELETE ON connector_revisions FOR EACH STATEMENT EXECUTE FUNCTION bump_config_generation();
CREATE TRIGGER connections_generation AFTER INSERT OR UPDATE OR DELETE ON connections FOR EACH STATEMENT EXECUTE FUNCTION bump_config_generation();
CREATE TRIGGER connection_secrets_generation AFTER INSERT OR UPDATE OR DELETE ON connection_secrets FOR EACH STATEMENT EXECUTE FUNCTION bump_config_generation();
CREATE TRIGGER grants_generation AFTER INSERT OR UPDATE OR DELETE ON grants FOR EACH STATEMENT EXECUTE FUNCTION bump_config_generation();
CREATE TRIGGER flows_generation AFTER INSERT OR UPDATE OR DELETE ON flows FOR EACH STATEMENT EXECUTE FUNCTION bump_config_generation();
CREATE TRIGGER flow_revisions_generation AFTER INSERT OR UPDATE OR DELETE ON flow_revisions FOR EACH STATEMENT EXECUTE FUNCTION bump_config_generation();
CREATE TRIGGER store_meta_generation AFTER INSERT OR UPDATE OR DELETE ON store_meta FOR EACH STATEMENT EXECUTE FUNCTION bump_config_generation();
CREATE TRIGGER gateways_generation AFTER INSERT OR UPDATE OR DELETE ON gateways FOR EACH STATEMENT EXECUTE FUNCTION bump_config_generation();
