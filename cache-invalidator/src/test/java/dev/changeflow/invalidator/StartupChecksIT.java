package dev.changeflow.invalidator;

import dev.changeflow.capture.testing.MainProcess;
import dev.changeflow.router.subscription.ServiceLifecycle;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import dev.changeflow.db.SchemaMigrations;
import dev.changeflow.stack.KafkaServer;
import dev.changeflow.stack.PostgresServer;
import dev.changeflow.stack.SharedServers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an operator sees when starting the invalidator: a failed check, and the process's exit codes. */
class StartupChecksIT {
    private static final PostgresServer POSTGRES = SharedServers.postgres();
    private static final KafkaServer KAFKA = SharedServers.kafka();
    private static String database;

    @TempDir
    Path dir;

    @BeforeAll
    static void migrateADatabase() throws Exception {
        database = POSTGRES.createDatabase("startup");
        SchemaMigrations.apply(POSTGRES.dataSource(database));
    }

    private static Map<String, String> settings() {
        Map<String, String> values = new HashMap<>();
        values.put("CHANGEFLOW_POSTGRES_URL", POSTGRES.jdbcUrl(database) + "?user=" + POSTGRES.user());
        if (POSTGRES.password() != null) {
            values.put("CHANGEFLOW_POSTGRES_PASSWORD", POSTGRES.password());
        }
        values.put("CHANGEFLOW_KAFKA_BOOTSTRAP", KAFKA.bootstrapServers());
        values.put("CHANGEFLOW_REDIS_URL", SharedServers.redis().uri().toString());
        return values;
    }

    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private Process startProcess(Map<String, String> env, Path log) throws Exception {
        return MainProcess.start(InvalidatorMain.class, env, log, dir.resolve("stderr.txt"));
    }

    @Test
    void anUnreachableRedisFailsStartWithOneLineNamingTheSettingWithoutThePassword() throws Exception {
        int closed = closedPort();
        Map<String, String> values = settings();
        values.put("CHANGEFLOW_REDIS_URL", "redis://:hunter2@127.0.0.1:" + closed);
        InvalidatorService service = InvalidatorService.create(Settings.of(values), new SimpleMeterRegistry());

        assertThatThrownBy(service::start)
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("CHANGEFLOW_REDIS_URL=redis://:****@127.0.0.1:" + closed
                        + " (changeflow.redis.url): cannot connect to Redis: ")
                .hasMessageNotContaining("hunter2")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThat(service.state()).isEqualTo(ServiceLifecycle.State.FAILED);
        assertThat(service.whenTerminated()).isCompletedExceptionally();
    }

    @Test
    void aServiceStartsOnceOnly() {
        InvalidatorService service = InvalidatorService.create(Settings.of(settings()), new SimpleMeterRegistry());
        service.close();

        assertThatThrownBy(service::start).isInstanceOf(IllegalStateException.class)
                .hasMessage("The cache invalidator cannot go from CLOSED to STARTING");
        assertThatThrownBy(service::subscription).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void theProcessExitsWith2AndOneLineOnStderrWhenARuleNamesAnUnknownColumn() throws Exception {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), "tables:\n  tasks: [\"task:{uuid}\"]\n");
        Map<String, String> env = settings();
        env.put("CHANGEFLOW_INVALIDATOR_RULES_FILE", rules.toString());

        Process process = startProcess(env, dir.resolve("stdout.txt"));

        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("process exited").isTrue();
        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(Files.readAllLines(dir.resolve("stderr.txt"), StandardCharsets.UTF_8)).singleElement()
                .asString()
                .startsWith("changeflow invalidator: CHANGEFLOW_INVALIDATOR_RULES_FILE=" + rules)
                .contains("template \"task:{uuid}\": column uuid does not exist in app.tasks; its columns are id, ");
    }

    @Test
    void theProcessRunsUntilSigtermThenLeavesTheGroupAndExitsWith143() throws Exception {
        String id = "p" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", KAFKA.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(id + ".tasks-changes", 2, (short) 1),
                    new NewTopic(id + ".projects-changes", 1, (short) 1))).all().get();
        }
        Map<String, String> env = settings();
        env.put("CHANGEFLOW_ROUTER_TOPIC_REPLACEMENT", id + ".$1-changes");
        env.put("CHANGEFLOW_ROUTER_STATE_TOPICS", "tasks=" + id + ".task.state,projects=" + id + ".project.state");
        env.put("CHANGEFLOW_INVALIDATOR_GROUP", id + "-invalidator");
        Path log = dir.resolve("stdout.txt");

        Process process = startProcess(env, log);
        await("the process running its subscription").atMost(Duration.ofSeconds(60))
                .until(() -> Files.readString(log).contains("Cache invalidator started: group " + id));
        process.destroy(); // SIGTERM

        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("process exited").isTrue();
        assertThat(process.exitValue()).isEqualTo(143);
        assertThat(Files.readString(log)).contains("Cache invalidator " + id + "-invalidator closed")
                .doesNotContain("ERROR");
    }
}
