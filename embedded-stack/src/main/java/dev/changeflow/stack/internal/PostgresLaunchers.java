package dev.changeflow.stack.internal;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import dev.changeflow.db.PostgresPreflight;
import dev.changeflow.stack.PostgresServer;
import dev.changeflow.stack.PostgresServer.Origin;
import dev.changeflow.stack.StackSettings;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
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
        return new PostgresServer(Origin.EMBEDDED, "localhost", pg.getPort(), "postgres", "postgres", null, () -> {
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
        return new PostgresServer(Origin.TESTCONTAINERS, container.getHost(), container.getMappedPort(5432),
                container.getDatabaseName(), container.getUsername(), container.getPassword(), container::stop);
    }

    private static boolean isDockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * The server of {@link StackSettings#POSTGRES_URL}, after checking that it answers, accepts the credentials and
     * has {@code wal_level=logical}.
     */
    public static PostgresServer external(Settings settings) {
        String raw = settings.raw(StackSettings.POSTGRES_URL).orElseThrow();
        URI given = settings.get(StackSettings.POSTGRES_URL);
        URI uri = given.toString().startsWith("jdbc:") ? URI.create(given.toString().substring(5)) : given;
        Map<String, String> query = parseQuery(uri.getRawQuery());
        String[] userInfo = Optional.ofNullable(uri.getRawUserInfo()).map(u -> u.split(":", 2)).orElse(new String[0]);
        String user = userInfo.length > 0 && !userInfo[0].isEmpty() ? decode(userInfo[0])
                : Optional.ofNullable(query.get("user"))
                        .orElseGet(() -> settings.find(StackSettings.POSTGRES_USER).orElse("postgres"));
        String password = userInfo.length > 1 ? decode(userInfo[1])
                : Optional.ofNullable(query.get("password"))
                        .orElseGet(() -> settings.find(StackSettings.POSTGRES_PASSWORD).orElse(null));
        String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
        PostgresServer server = new PostgresServer(Origin.EXTERNAL, uri.getHost(),
                uri.getPort() < 0 ? 5432 : uri.getPort(), path.isEmpty() ? "postgres" : path, user, password, () -> {
                });

        try (Connection connection = server.connect()) {
            Optional<String> problem = PostgresPreflight.walLevelProblem(connection);
            if (problem.isPresent()) {
                throw ConfigException.unusable(StackSettings.POSTGRES_URL, raw, problem.get());
            }
        } catch (SQLException e) {
            throw ConfigException.unusable(StackSettings.POSTGRES_URL, raw, describe(e, user));
        }
        LOG.info("Using external Postgres {}", server);
        return server;
    }

    private static String describe(SQLException e, String user) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (state.startsWith("28")) {
            return "Postgres rejected the credentials of user '" + user + "' (SQLState " + state + ")";
        }
        if (state.startsWith("08")) {
            return "cannot connect to Postgres: " + e.getMessage() + " (SQLState " + state + ")";
        }
        if (state.equals("3D000")) {
            return "the database does not exist (SQLState 3D000)";
        }
        return "Postgres refused the connection: " + e.getMessage();
    }

    private static Map<String, String> parseQuery(String rawQuery) {
        Map<String, String> out = new HashMap<>();
        if (rawQuery == null) {
            return out;
        }
        for (String pair : rawQuery.split("&")) {
            String[] kv = pair.split("=", 2);
            out.put(decode(kv[0]), kv.length > 1 ? decode(kv[1]) : "");
        }
        return out;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
