package dev.changeflow.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.changeflow.stack.internal.Processes;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class PersistentPostgresIT {
    private static final Logger LOG = LoggerFactory.getLogger(PersistentPostgresIT.class);

    @Test
    void aTableAndRowWrittenBeforeCloseAreThereAfterStartingAgainOnTheSameDirectory(@TempDir Path dir)
            throws Exception {
        int port;
        ProcessHandle postmaster;
        long t0 = System.nanoTime();
        PostgresServer first = PostgresServer.startPersistent(dir, 0);
        try {
            LOG.info("First start (initdb included) took {} ms", millisSince(t0));
            port = first.port();
            postmaster = postmasterOf(dir);
            try (Connection c = first.connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)");
                s.execute("INSERT INTO notes VALUES (1, 'kept across restarts')");
            }
        } finally {
            long t1 = System.nanoTime();
            first.close();
            LOG.info("Close took {} ms", millisSince(t1));
        }
        assertThat(Processes.isRunning(postmaster)).as("postmaster after close").isFalse();

        long t2 = System.nanoTime();
        try (PostgresServer second = PostgresServer.startPersistent(dir, port)) {
            LOG.info("Restart on an initialised directory took {} ms", millisSince(t2));
            assertThat(second.port()).isEqualTo(port);
            try (Connection c = second.connect(); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT body FROM notes WHERE id = 1")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("kept across restarts");
            }
        }
    }

    @Test
    void theServerIsDurableLogicalAndTrustsThePostgresUserWithoutPassword(@TempDir Path dir) throws Exception {
        try (PostgresServer postgres = PostgresServer.startPersistent(dir, 0);
                Connection c = postgres.connect(); Statement s = c.createStatement()) {
            Map<String, String> settings = new LinkedHashMap<>();
            for (String name : new String[] {"fsync", "synchronous_commit", "full_page_writes", "wal_level"}) {
                try (ResultSet rs = s.executeQuery("SHOW " + name)) {
                    rs.next();
                    settings.put(name, rs.getString(1));
                }
            }
            assertThat(settings).containsExactly(Map.entry("fsync", "on"), Map.entry("synchronous_commit", "on"),
                    Map.entry("full_page_writes", "on"), Map.entry("wal_level", "logical"));
            assertThat(postgres.user()).isEqualTo("postgres");
            assertThat(postgres.database()).isEqualTo("postgres");
            assertThat(postgres.password()).isNull();
        }
    }

    @Test
    void closingTwiceIsFineAndAServerThatStoppedOnItsOwnStillClosesAndStartsAgain(@TempDir Path dir) throws Exception {
        PostgresServer postgres = PostgresServer.startPersistent(dir, 0);
        ProcessHandle postmaster = postmasterOf(dir);
        postmaster.destroy(); // SIGTERM: what an operator's kill would do
        await("postmaster stopped").atMost(Duration.ofSeconds(30)).until(() -> !Processes.isRunning(postmaster));

        postgres.close();
        postgres.close();

        assertThat(Processes.isRunning(postmaster)).isFalse();
        try (PostgresServer again = PostgresServer.startPersistent(dir, 0)) {
            assertThat(again.port()).isPositive();
        }
    }

    /**
     * A fast shutdown waits for every walsender's client to confirm all WAL, which a logical client (Debezium) does
     * only now and then: without help, pg_ctl gives up and the server has to be killed.
     */
    @Test
    void aStreamingLogicalReplicationClientDoesNotPreventACleanShutdown(@TempDir Path dir) throws Exception {
        PostgresServer postgres = PostgresServer.startPersistent(dir, 0);
        try (Connection c = postgres.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)");
            s.execute("CREATE PUBLICATION notes_pub FOR TABLE notes");
        }
        Properties props = new Properties();
        PGProperty.USER.set(props, postgres.user());
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "9.4");
        PGProperty.REPLICATION.set(props, "database");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        CompletableFuture<Throwable> streamEnded = new CompletableFuture<>();
        try (Connection replication = DriverManager.getConnection(postgres.jdbcUrl(), props)) {
            PGConnection pg = replication.unwrap(PGConnection.class);
            pg.getReplicationAPI().createReplicationSlot().logical()
                    .withSlotName("notes_slot").withOutputPlugin("pgoutput").make();
            PGReplicationStream stream = pg.getReplicationAPI().replicationStream().logical()
                    .withSlotName("notes_slot")
                    .withSlotOption("proto_version", 1)
                    .withSlotOption("publication_names", "notes_pub")
                    .start();
            // Reads every message and never confirms one.
            Thread reader = new Thread(() -> {
                try {
                    while (true) {
                        stream.read();
                    }
                } catch (Exception e) {
                    streamEnded.complete(e);
                }
            }, "replication-reader");
            reader.setDaemon(true);
            reader.start();
            try (Connection c = postgres.connect(); Statement s = c.createStatement()) {
                s.execute("INSERT INTO notes SELECT i, 'note ' || i FROM generate_series(1, 1000) i");
            }

            postgres.close();
        }

        assertThat(streamEnded).succeedsWithin(Duration.ofSeconds(10));
        List<String> log = Files.readAllLines(dir.resolve("postgres.log"));
        assertThat(log.subList(Math.max(0, log.size() - 5), log.size()))
                .as("the end of postgres.log").anyMatch(l -> l.contains("database system is shut down"));
    }

    @Test
    void aTakenPortFailsWithAMessageNamingIt(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> PostgresServer.startPersistent(dir, port))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Port " + port + " on 127.0.0.1 is already in use")
                    .hasMessageContaining("Postgres");
        }
    }

    @Test
    void aSecondServerOnADirectoryInUseIsRefused(@TempDir Path dir) throws Exception {
        try (PostgresServer postgres = PostgresServer.startPersistent(dir, 0)) {
            assertThatThrownBy(() -> PostgresServer.startPersistent(dir, 0))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(dir.toString())
                    .hasMessageContaining("in use");
            try (Connection c = postgres.connect()) {
                assertThat(c.isValid(5)).as("the first server still works").isTrue();
            }
        }
    }

    private static ProcessHandle postmasterOf(Path dir) throws Exception {
        long pid = Long.parseLong(Files.readAllLines(dir.resolve("data").resolve("postmaster.pid")).get(0).trim());
        return ProcessHandle.of(pid).orElseThrow();
    }

    private static long millisSince(long nanoTime) {
        return (System.nanoTime() - nanoTime) / 1_000_000;
    }
}
