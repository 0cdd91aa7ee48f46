package dev.changeflow.stack;

import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Setting;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The settings of servers started here; servers given by URL are chosen with {@link ConnectionSettings}. Declared
 * once: the README's reference and the startup checks come from these declarations.
 */
public final class StackSettings {

    /** How a Postgres server is provided when {@link ConnectionSettings#POSTGRES_URL} is not set. */
    public enum PostgresProvider {
        /** Zonky's embedded Postgres 17 binaries, run as a child process. Needs nothing but the JDK. */
        EMBEDDED,
        /** Testcontainers' PostgreSQL module. Needs a reachable Docker engine. */
        TESTCONTAINERS
    }

    public static final Setting<PostgresProvider> POSTGRES_PROVIDER = Setting.oneOf("changeflow.postgres.provider",
            "Which local Postgres to start when changeflow.postgres.url is not set.", PostgresProvider.class,
            PostgresProvider.EMBEDDED);

    public static final Setting<String> STACK_DIR = Setting.string("changeflow.stack.dir",
            "Directory under which started servers keep their data and binaries.",
            Path.of(System.getProperty("java.io.tmpdir"), "changeflow-stack").toString());

    public static final Setting<Duration> CONNECT_TIMEOUT = Setting.duration("changeflow.stack.connect-timeout",
            "How long to wait for an external server to answer before startup fails.", Duration.ofSeconds(10));

    /** Every setting above, in documentation order. The server URLs are in {@link ConnectionSettings}. */
    public static final List<Setting<?>> ALL = List.of(POSTGRES_PROVIDER, STACK_DIR, CONNECT_TIMEOUT);

    private StackSettings() {
    }
}
