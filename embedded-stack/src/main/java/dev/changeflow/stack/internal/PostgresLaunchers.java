package dev.changeflow.stack.internal;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.db.PostgresEndpoint;
import dev.changeflow.db.PostgresPreflight;
import dev.changeflow.stack.PostgresServer;
import dev.changeflow.stack.PostgresServer.Origin;
import dev.changeflow.stack.StackSettings;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/** Starts, or connects to and checks, the Postgres a {@link Settings} selects. */
public final class PostgresLaunchers {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresLaunchers.class);

    /** Server settings every local Postgres gets: logical decoding with room for tests' slots. */
    private static final Map<String, String> SERVER_CONFIG = Map.of(
            "wal_level", "logical",
            "max_replication_slots", "32",
            "max_wal_senders", "32",
            "max_connections", "300");

    private PostgresLaunchers() {
    }

    /** Postgres 17 from zonky's binaries, in a fresh work directory under the stack root. */
    public static PostgresServer embedded(Settings settings) {
        return embedded(settings, Map.of());
    }

    /**
     * As {@link #embedded(Settings)}, with server settings replaced or added; for tests that need a misconfigured
     * server, such as one with {@code wal_level=replica}.
     */
    public static PostgresServer embedded(Settings settings, Map<String, String> serverConfigOverrides) {
        Path root = Path.of(settings.get(StackSettings.STACK_DIR));
        WorkDirectory dir = WorkDirectory.create(root, "postgres");
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setOverrideWorkingDirectory(root.resolve("pg-binaries").toFile())
                .setDataDirectory(dir.path().resolve("data"))
                .setCleanDataDirectory(true)
                .setRegisterShutdownHook(false);
        SERVER_CONFIG.forEach(builder::setServerConfig);
        serverConfigOverrides.forEach(builder::setServerConfig);
        EmbeddedPostgres pg;
        try {
            pg = builder.start();
        } catch (IOException e) {
            dir.close();
            throw new UncheckedIOException("Embedded Postgres did not start in " + dir.path(), e);
        }
        LOG.info("Embedded Postgres started on port {} in {}", pg.getPort(), dir.path());
        PostgresEndpoint endpoint = new PostgresEndpoint("localhost", pg.getPort(), "postgres", "postgres", null);
        return new PostgresServer(Origin.EMBEDDED, endpoint, () -> {
            try {
                pg.close();
            } finally {
                dir.close();
            }
        });
    }

    /** Postgres 17 in a container; fails with a clear error where no Docker engine is reachable. */
    public static PostgresServer testcontainers(Settings settings) {
        if (!isDockerAvailable()) {
            throw ConfigException.unusable(StackSettings.POSTGRES_PROVIDER, "testcontainers",
                    "no Docker engine is reachable; use embedded (the default) or start Docker");
        }
        String[] command = SERVER_CONFIG.entrySet().stream()
                .flatMap(e -> java.util.stream.Stream.of("-c", e.getKey() + "=" + e.getValue()))
                .toArray(String[]::new);
        String[] fullCommand = new String[command.length + 1];
        fullCommand[0] = "postgres";
        System.arraycopy(command, 0, fullCommand, 1, command.length);
        PostgreSQLContainer container = new PostgreSQLContainer(DockerImageName.parse("postgres:17"))
                .withCommand(fullCommand);
        container.start();
        return new PostgresServer(Origin.TESTCONTAINERS, new PostgresEndpoint(container.getHost(),
                container.getMappedPort(5432), container.getDatabaseName(), container.getUsername(),
                container.getPassword()), container::stop);
    }

    private static boolean isDockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * The server of {@link ConnectionSettings#POSTGRES_URL}, after checking that it answers, accepts the credentials and
     * has {@code wal_level=logical}.
     */
    public static PostgresServer external(Settings settings) {
        String raw = settings.raw(ConnectionSettings.POSTGRES_URL).orElseThrow();
        PostgresEndpoint endpoint = PostgresEndpoint.from(settings);
        try (Connection connection = endpoint.connect()) {
            Optional<String> problem = PostgresPreflight.walLevelProblem(connection);
            if (problem.isPresent()) {
                throw ConfigException.unusable(ConnectionSettings.POSTGRES_URL, raw, problem.get());
            }
        } catch (SQLException e) {
            throw ConfigException.unusable(ConnectionSettings.POSTGRES_URL, raw, endpoint.describe(e));
        }
        PostgresServer server = new PostgresServer(Origin.EXTERNAL, endpoint, () -> {
        });
        LOG.info("Using external Postgres {}", server);
        return server;
    }
}
