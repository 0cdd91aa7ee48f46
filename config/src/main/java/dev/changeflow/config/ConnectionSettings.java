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
                    + "postgresql://user:password@host:port/db. Tests and the demo start one when it is unset.",
            "jdbc:postgresql", "postgresql", "postgres");

    public static final Setting<String> POSTGRES_USER = Setting.string("changeflow.postgres.user",
            "Postgres user, unless the URL names one.", null);

    public static final Setting<String> POSTGRES_PASSWORD = Setting.secret("changeflow.postgres.password",
            "Postgres password, unless the URL carries one. Never logged.", null);

    public static final Setting<String> KAFKA_BOOTSTRAP = Setting.string("changeflow.kafka.bootstrap",
            "Bootstrap servers of the Kafka cluster. Tests and the demo start a broker when it is unset.", null)
            .withValidation("a comma-separated list of host:port",
                    v -> v.matches("\\s*[^\\s,:]+:\\d{1,5}\\s*(,\\s*[^\\s,:]+:\\d{1,5}\\s*)*"));

    public static final Setting<URI> REDIS_URL = Setting.uri("changeflow.redis.url",
            "URL of Redis, as redis://[:password@]host:port. Tests and the demo start one when it is unset.",
            "redis", "rediss");

    /** Every setting above, in documentation order. */
    public static final List<Setting<?>> ALL =
            List.of(POSTGRES_URL, POSTGRES_USER, POSTGRES_PASSWORD, KAFKA_BOOTSTRAP, REDIS_URL);

    private ConnectionSettings() {
    }
}
