package dev.changeflow.config;

import java.net.URI;
import java.util.List;

/**
 * Where the servers are: the settings every Changeflow process shares, declared once here. When a test or the demo
 * finds one of them set, it uses that server instead of starting one.
 */
public final class ConnectionSettings {

    public static final Setting<URI> POSTGRES_URL = Setting.uri("changeflow.postgres.url",
            "URL of the Postgres to capture from (wal_level=logical), as jdbc:postgresql://host:port/db or "
                    + "postgresql://user:password@host:port/db. Required by changeflow run; tests start one when it is unset (the demo always starts its own).",
            "jdbc:postgresql", "postgresql", "postgres");

    public static final Setting<String> POSTGRES_USER = Setting.string("changeflow.postgres.user",
            "Postgres user, unless the URL names one.", null);

    public static final Setting<String> POSTGRES_PASSWORD = Setting.secret("changeflow.postgres.password",
            "Postgres password, unless the URL carries one. Never logged.", null);

    public static final Setting<String> KAFKA_BOOTSTRAP = Setting.string("changeflow.kafka.bootstrap",
            "Bootstrap servers of the Kafka cluster. Required by changeflow run; tests start a broker when it is unset (the demo always starts its own).", null)
            .withValidation("a comma-separated list of host:port",
                    v -> v.matches("\\s*[^\\s,:]+:\\d{1,5}\\s*(,\\s*[^\\s,:]+:\\d{1,5}\\s*)*"));

    public static final Setting<URI> REDIS_URL = Setting.uri("changeflow.redis.url",
            "URL of Redis, as redis://[:password@]host:port. Required by changeflow run; tests start one when it is unset (the demo always starts its own).",
            "redis", "rediss");

    public static final Setting<URI> OPENSEARCH_URL = Setting.uri("changeflow.opensearch.url",
            "URL of the OpenSearch cluster the search indexer writes to when changeflow.indexer.engine is "
                    + "opensearch, as http(s)://host:port.",
            "http", "https");

    public static final Setting<String> OPENSEARCH_USER = Setting.string("changeflow.opensearch.user",
            "OpenSearch user for HTTP basic authentication; none when unset.", null);

    public static final Setting<String> OPENSEARCH_PASSWORD = Setting.secret("changeflow.opensearch.password",
            "Password of changeflow.opensearch.user. Never logged.", null);

    /** Every setting above, in documentation order. */
    public static final List<Setting<?>> ALL = List.of(POSTGRES_URL, POSTGRES_USER, POSTGRES_PASSWORD,
            KAFKA_BOOTSTRAP, REDIS_URL, OPENSEARCH_URL, OPENSEARCH_USER, OPENSEARCH_PASSWORD);

    private ConnectionSettings() {
    }
}
