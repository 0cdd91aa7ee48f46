package dev.changeflow.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import dev.changeflow.stack.internal.PostgresLaunchers;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;
import org.testcontainers.DockerClientFactory;

class PostgresServerIT {
    private final PostgresServer postgres = SharedServers.postgres();

    @Test
    void aPgoutputSlotStreamsAnInsertedRow() throws Exception {
        String db = postgres.createDatabase("pgoutput");
        try (Connection sql = postgres.connect(db); Statement s = sql.createStatement()) {
            s.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)");
            s.execute("CREATE PUBLICATION notes_pub FOR TABLE notes");
        }
        try (Connection replication = replicationConnection(db)) {
            PGConnection pg = replication.unwrap(PGConnection.class);
            pg.getReplicationAPI().createReplicationSlot().logical()
                    .withSlotName("notes_slot").withOutputPlugin("pgoutput").make();
            try (Connection sql = postgres.connect(db); Statement s = sql.createStatement()) {
                s.execute("INSERT INTO notes VALUES (42, 'hello from the WAL')");
            }
            PGReplicationStream stream = pg.getReplicationAPI().replicationStream().logical()
                    .withSlotName("notes_slot")
                    .withSlotOption("proto_version", 1)
                    .withSlotOption("publication_names", "notes_pub")
                    .start();
            List<List<String>> inserts = new ArrayList<>();
            await("an Insert message on the pgoutput stream").atMost(Duration.ofSeconds(30)).until(() -> {
                ByteBuffer message = stream.readPending();
                if (message != null && message.get(message.position()) == 'I') {
                    inserts.add(decodeInsert(message));
                }
                return !inserts.isEmpty();
            });
            stream.close();
            assertThat(inserts.get(0)).containsExactly("42", "hello from the WAL");
        }
    }

    @Test
    void anExternalUrlIsUsedInsteadOfStartingAServer() throws Exception {
        String url = "jdbc:postgresql://localhost:" + postgres.port() + "/postgres?user=" + postgres.user();
        try (PostgresServer external = PostgresServer.start(Settings.of(Map.of("CHANGEFLOW_POSTGRES_URL", url)));
                Connection c = external.connect();
                Statement s = c.createStatement()) {
            assertThat(external.origin()).isEqualTo(PostgresServer.Origin.EXTERNAL);
            assertThat(external.port()).isEqualTo(postgres.port());
            assertThat(s.executeQuery("SELECT 1").next()).isTrue();
        }
    }

    @Test
    void anUnreachableExternalUrlGivesOneLineNamingTheSettingWithoutThePassword() throws Exception {
        int closedPort = TestPorts.closedPort();
        Settings settings = Settings.of(Map.of(
                "CHANGEFLOW_POSTGRES_URL", "postgresql://app:s3cret@127.0.0.1:" + closedPort + "/app"));

        assertThatThrownBy(() -> PostgresServer.start(settings))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("CHANGEFLOW_POSTGRES_URL=postgresql://app:****@127.0.0.1:" + closedPort)
                .hasMessageContaining("cannot connect to Postgres")
                .hasMessageNotContaining("s3cret")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void aPostgresWhoseWalLevelIsNotLogicalIsRejectedNamingTheSetting() throws Exception {
        try (PostgresServer replicaOnly = PostgresLaunchers.embedded(Settings.fromEnvironment(),
                Map.of("wal_level", "replica"))) {
            Settings settings = Settings.of(Map.of("CHANGEFLOW_POSTGRES_URL",
                    "jdbc:postgresql://localhost:" + replicaOnly.port() + "/postgres?user=postgres"));

            assertThatThrownBy(() -> PostgresServer.start(settings))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("CHANGEFLOW_POSTGRES_URL=jdbc:postgresql://localhost:")
                    .hasMessageContaining("wal_level is 'replica' but change capture needs wal_level=logical");
        }
    }

    @Test
    void theTestcontainersProviderWithoutDockerSaysSoAndNamesTheSetting() {
        org.junit.jupiter.api.Assumptions.assumeFalse(DockerClientFactory.instance().isDockerAvailable(),
                "a Docker engine is reachable here; the provider would start a container");
        Settings settings = Settings.of(Map.of("CHANGEFLOW_POSTGRES_PROVIDER", "testcontainers"));

        assertThatThrownBy(() -> PostgresServer.start(settings))
                .isInstanceOf(ConfigException.class)
                .hasMessage("CHANGEFLOW_POSTGRES_PROVIDER=testcontainers (changeflow.postgres.provider): "
                        + "no Docker engine is reachable; use embedded (the default) or start Docker");
    }

    private Connection replicationConnection(String db) throws Exception {
        Properties props = new Properties();
        PGProperty.USER.set(props, postgres.user());
        if (postgres.password() != null) {
            PGProperty.PASSWORD.set(props, postgres.password());
        }
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "9.4");
        PGProperty.REPLICATION.set(props, "database");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        return DriverManager.getConnection(postgres.jdbcUrl(db), props);
    }

    /** pgoutput Insert: 'I', relation id, 'N', column count, then per column a kind byte and (for 't') the text. */
    private static List<String> decodeInsert(ByteBuffer message) {
        ByteBuffer b = message.duplicate();
        b.get(); // 'I'
        b.getInt(); // relation id
        b.get(); // 'N'
        short columns = b.getShort();
        List<String> values = new ArrayList<>();
        for (int i = 0; i < columns; i++) {
            byte kind = b.get();
            if (kind == 't') {
                byte[] text = new byte[b.getInt()];
                b.get(text);
                values.add(new String(text, StandardCharsets.UTF_8));
            } else {
                values.add(null);
            }
        }
        return values;
    }
}
