package dev.changeflow.stack;

import dev.changeflow.config.Setting;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The settings that choose between servers started here and servers given by URL. Declared once; the README's
 * reference and the startup checks come from these declarations.
 */
public final class StackSettings {

    /** How a Postgres server is provided when {@link #POSTGRES_URL} is not set. */
    public enum PostgresProvider {
        /** Zonky's embedded Postgres 17 binaries, run as a child process. Needs nothing but the JDK. */
        EMBEDDED,
        /** Testcontainers' PostgreSQL module. Needs a reachable Docker engine. */
        TESTCONTAINERS
    }

    public static final Setting<URI> POSTGRES_URL = Setting.uri("changeflow.postgres.url",
            "URL of an external Postgres (with wal_level=logical) to use instead of starting one, as "
                    + "jdbc:postgresql://host:port/db or postgresql://user:password@host:port/db.",
            "jdbc:postgresql", "postgresql", "postgres");

    public static final Setting<String> POSTGRES_USER = Setting.string("changeflow.postgres.user",
            "User for the external Postgres, unless the URL names one.", null);

    public static final Setting<String> POSTGRES_PASSWORD = Setting.secret("changeflow.postgres.password",
            "Password for the external Postgres, unless the URL carries one. Never logged.", null);

    public static final Setting<PostgresProvider> POSTGRES_PROVIDER = Setting.oneOf("changeflow.postgres.provider",
            "Which local Postgres to start when no URL is given.", PostgresProvider.class, PostgresProvider.EMBEDDED);

    public static final Setting<String> KAFKA_BOOTSTRAP = Setting.string("changeflow.kafka.bootstrap",
            "Bootstrap servers of an external Kafka cluster to use instead of starting a broker.", null)
            .withValidation("a comma-separated list of host:port",
                    v -> v.matches("\\s*[^\\s,:]+:\\d{1,5}\\s*(,\\s*[^\\s,:]+:\\d{1,5}\\s*)*"));

    public static final Setting<URI> REDIS_URL = Setting.uri("changeflow.redis.url",
            "URL of an external Redis to use instead of starting one, as redis://[:password@]host:port.",
            "redis", "rediss");

    public static final Setting<String> STACK_DIR = Setting.string("changeflow.stack.dir",
            "Directory under which started servers keep their data and binaries.",
            Path.of(System.getProperty("java.io.tmpdir"), "changeflow-stack").toString());

    public static final Setting<Duration> CONNECT_TIMEOUT = Setting.duration("changeflow.stack.connect-timeout",
            "How long to wait for an external server to answer before startup fails.", Duration.ofSeconds(10));

    /** Every setting above, in documentation order. */
    public static final List<Setting<?>> ALL = List.of(POSTGRES_URL, POSTGRES_USER, POSTGRES_PASSWORD,
            POSTGRES_PROVIDER, KAFKA_BOOTSTRAP, REDIS_URL, STACK_DIR, CONNECT_TIMEOUT);

    private StackSettings() {
    }
}
