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
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;
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

    /**
     * Added for a persistent server: a real database survives a crash. Zonky's defaults are for throw-away test
     * servers: {@code synchronous_commit=off}, and {@code -F} on the command line (fsync off), which these override.
     */
    private static final Map<String, String> DURABLE_CONFIG = Map.of(
            "synchronous_commit", "on",
            "fsync", "on",
            "full_page_writes", "on");

    /** A first start runs initdb and may recover from a crash: allow more than zonky's 10 s. */
    private static final Duration PERSISTENT_START_TIMEOUT = Duration.ofSeconds(60);

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
        EmbeddedPostgres.Builder builder = builder(root.resolve("pg-binaries"), dir.path().resolve("data"))
                .setCleanDataDirectory(true);
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

    /**
     * Postgres 17 from zonky's binaries with its data in {@code directory/data}: initialised on first use, reused
     * after. The binaries are extracted to {@code directory/pg-binaries} (unless zonky already extracted them
     * elsewhere in this JVM: it keeps one copy per JVM), the server's output goes to {@code directory/postgres.log}. A postmaster left running on the data directory by a JVM killed with {@code -9}
     * is stopped first (see {@link WorkDirectory#claim(Path)}).
     */
    public static PostgresServer persistent(Path directory, int port) {
        WorkDirectory dir = WorkDirectory.claim(directory);
        try {
            int chosenPort = FreePorts.chooseOrFind(port, "Postgres");
            Path data = dir.path().resolve("data");
            requireReusable(data);
            ProcessBuilder.Redirect log = ProcessBuilder.Redirect.appendTo(dir.path().resolve("postgres.log").toFile());
            EmbeddedPostgres.Builder builder = builder(dir.path().resolve("pg-binaries"), data)
                    .setCleanDataDirectory(false)
                    .setPort(chosenPort)
                    .setPGStartupWait(PERSISTENT_START_TIMEOUT)
                    .setOutputRedirector(log)
                    .setErrorRedirector(log);
            DURABLE_CONFIG.forEach(builder::setServerConfig);
            long started = System.nanoTime();
            EmbeddedPostgres pg = startOrExplain(builder, chosenPort, dir.path());
            Optional<ProcessHandle> postmaster = WorkDirectory.recordedProcess(data.resolve("postmaster.pid"));
            LOG.info("Postgres started on port {} in {} ms, data in {}", chosenPort, millisSince(started), data);
            PostgresEndpoint endpoint = new PostgresEndpoint("localhost", chosenPort, "postgres", "postgres", null);
            return new PostgresServer(Origin.EMBEDDED, endpoint, new ServerStopper("Postgres", () -> {
                boolean running = postmaster.map(Processes::isRunning).orElse(true);
                if (!running) {
                    LOG.info("Postgres (pid {}) had already stopped; zonky will report that pg_ctl stop failed",
                            postmaster.get().pid());
                }
                try {
                    if (running) {
                        disconnectReplicationClients(chosenPort);
                    }
                    // pg_ctl stop -m fast: disconnects clients, checkpoints, exits; waits up to 5 s.
                    pg.close();
                } finally {
                    // pg_ctl gave up after 5 s (a replication client that does not read can hold up a fast
                    // shutdown): kill it. The WAL is fsynced, so the next start recovers every commit.
                    postmaster.filter(Processes::isRunning).ifPresent(p -> Processes.stopTree(p,
                            "Postgres that did not stop within 5 s, with SIGKILL:", Duration.ZERO));
                    dir.close();
                }
            }));
        } catch (RuntimeException e) {
            dir.close();
            throw e;
        }
    }

    /**
     * Ends the walsenders before a fast shutdown, which otherwise waits for each replication client to confirm all WAL:
     * a logical client such as Debezium confirms only every few seconds, or never if it is stuck, and pg_ctl gives up
     * after 5 s. A logical slot keeps its confirmed position, so its client resumes where it was. Best effort: a
     * server that is already gone, or slow to answer, is left to pg_ctl.
     */
    private static void disconnectReplicationClients(int port) {
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        props.setProperty("connectTimeout", "2");
        props.setProperty("socketTimeout", "2");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://localhost:" + port + "/postgres", props);
                Statement s = c.createStatement()) {
            s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'walsender'");
        } catch (SQLException e) {
            LOG.debug("Could not end the replication connections before stopping Postgres: {}", e.toString());
        }
    }

    /** A non-empty data directory without postgresql.conf is neither reusable nor something initdb accepts. */
    private static void requireReusable(Path data) {
        try (Stream<Path> entries = Files.isDirectory(data) ? Files.list(data) : Stream.empty()) {
            boolean content = entries.anyMatch(p -> !p.getFileName().toString().equals("epg-lock"));
            if (content && !Files.exists(data.resolve("postgresql.conf"))) {
                throw new IllegalStateException(data + " is not empty but is not a Postgres data directory (no "
                        + "postgresql.conf; was a first start interrupted?); move or delete it to start afresh");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + data, e);
        }
    }

    private static EmbeddedPostgres startOrExplain(EmbeddedPostgres.Builder builder, int port, Path directory) {
        try {
            return builder.start();
        } catch (IOException | RuntimeException e) {
            // pg_ctl gives up after 60 s, but the postmaster may still be recovering: do not leave it behind.
            WorkDirectory.recordedProcess(directory.resolve("data").resolve("postmaster.pid"))
                    .ifPresent(p -> Processes.stopTree(p, "Postgres that did not start in time:"));
            try {
                FreePorts.requireFree(port, "Postgres");
            } catch (IllegalStateException taken) {
                // Another process bound the port between our check and the postmaster's start.
                taken.addSuppressed(e);
                throw taken;
            }
            throw new IllegalStateException("Postgres did not start on port " + port + "; see "
                    + directory.resolve("postgres.log"), e);
        }
    }

    private static EmbeddedPostgres.Builder builder(Path binaries, Path data) {
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setOverrideWorkingDirectory(binaries.toFile())
                .setDataDirectory(data)
                .setRegisterShutdownHook(false);
        SERVER_CONFIG.forEach(builder::setServerConfig);
        return builder;
    }

    private static long millisSince(long nanoTime) {
        return (System.nanoTime() - nanoTime) / 1_000_000;
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
