package dev.changeflow.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.router.topics.TopicProvisioner.WeakTopicException;
import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import dev.changeflow.stack.PostgresServer;
import dev.changeflow.stack.internal.PostgresLaunchers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.ServerSocket;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;

class CaptureStartupChecksIT {

    @Test
    void aPostgresWithoutLogicalWalLevelIsRejectedNamingTheUrlSetting() throws Exception {
        try (CaptureHarness h = new CaptureHarness();
                PostgresServer replicaOnly = PostgresLaunchers.embedded(Settings.fromEnvironment(),
                        Map.of("wal_level", "replica"))) {
            h.with("CHANGEFLOW_POSTGRES_URL", replicaOnly.jdbcUrl() + "?user=postgres");

            assertThatThrownBy(h::startCapture)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("CHANGEFLOW_POSTGRES_URL=jdbc:postgresql://localhost:")
                    .hasMessageContaining("wal_level is 'replica' but change capture needs wal_level=logical");
        }
    }

    @Test
    void aUserWithoutTheReplicationPrivilegeIsRejectedWithTheFix() throws Exception {
        try (CaptureHarness h = new CaptureHarness(); Connection c = h.sql()) {
            Rows.execute(c, "CREATE ROLE " + h.id + "_app LOGIN PASSWORD 'app-secret'");
            h.with("CHANGEFLOW_POSTGRES_URL", h.postgres.jdbcUrl(h.database))
                    .with("CHANGEFLOW_POSTGRES_USER", h.id + "_app")
                    .with("CHANGEFLOW_POSTGRES_PASSWORD", "app-secret");

            assertThatThrownBy(h::startCapture)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("user '" + h.id + "_app' lacks the REPLICATION privilege")
                    .hasMessageContaining("ALTER ROLE " + h.id + "_app WITH REPLICATION")
                    .hasMessageNotContaining("app-secret");
        }
    }

    @Test
    void aTableWithoutReplicaIdentityFullIsAnErrorUnlessExplicitlyAllowed() throws Exception {
        try (CaptureHarness h = new CaptureHarness(); Connection c = h.sql()) {
            Rows.execute(c, "ALTER TABLE app.tasks REPLICA IDENTITY DEFAULT");

            assertThatThrownBy(h::startCapture)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("CHANGEFLOW_CAPTURE_TABLES=app.tasks,app.projects")
                    .hasMessageContaining("table app.tasks has REPLICA IDENTITY DEFAULT but capture needs FULL")
                    .hasMessageContaining("CHANGEFLOW_CAPTURE_ALLOW_PARTIAL_REPLICA_IDENTITY=true");

            CaptureService allowed = h.with("CHANGEFLOW_CAPTURE_ALLOW_PARTIAL_REPLICA_IDENTITY", "true").startCapture();
            assertThat(allowed.state()).isEqualTo(CaptureService.State.RUNNING);
        }
    }

    @Test
    void anUnreachableKafkaIsRejectedNamingTheBootstrapSetting() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        try (CaptureHarness h = new CaptureHarness()) {
            h.with("CHANGEFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:" + closedPort)
                    .with("CHANGEFLOW_CAPTURE_STARTUP_TIMEOUT", "2s");

            assertThatThrownBy(h::startCapture)
                    .isInstanceOf(ConfigException.class)
                    .hasMessage("CHANGEFLOW_KAFKA_BOOTSTRAP=127.0.0.1:" + closedPort + " (changeflow.kafka.bootstrap): "
                            + "no Kafka broker answered within 2 s; check the host:port list and that the brokers are up");
        }
    }

    @Test
    void anExistingTopicWithFewerPartitionsStopsStartupInProductionAndWarnsInDev() throws Exception {
        try (CaptureHarness h = new CaptureHarness();
                Admin admin = Admin.create(Map.of("bootstrap.servers", h.kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(h.topic("tasks"), 2, (short) 1))).all().get();

            assertThatThrownBy(h::startCapture)
                    .isInstanceOf(WeakTopicException.class)
                    .hasMessageContaining(h.topic("tasks") + " has 2 partitions, configured 8")
                    .hasMessageContaining("CHANGEFLOW_MODE=dev");

            CaptureService dev = h.with("CHANGEFLOW_MODE", "dev").startCapture();
            assertThat(dev.state()).isEqualTo(CaptureService.State.RUNNING);
        }
    }

    @Test
    void anInvalidSettingFailsBeforeAnythingConnects() {
        Settings settings = Settings.of(Map.of(
                "CHANGEFLOW_POSTGRES_URL", "jdbc:postgresql://localhost/app",
                "CHANGEFLOW_KAFKA_BOOTSTRAP", "localhost:9092",
                "CHANGEFLOW_CAPTURE_MAX_BATCH_SIZE", "0"));

        assertThatThrownBy(() -> CaptureService.create(settings, new SimpleMeterRegistry()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("CHANGEFLOW_CAPTURE_MAX_BATCH_SIZE=0 (changeflow.capture.max-batch-size): invalid value; "
                        + "allowed: an integer from 1 to 65536");
    }
}
