package dev.changeflow.cli;

import dev.changeflow.capture.testing.MainProcess;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.testing.CapturedDatabase;
import dev.changeflow.stack.AppRows;
import dev.changeflow.stack.SharedServers;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code changeflow run} and {@code migrate} as an operator starts them: a process of its own, configured from the environment. */
class RunCommandIT {
    @TempDir
    Path dir;

    private Process start(Map<String, String> env, String... args) throws Exception {
        return MainProcess.start(Changeflow.class, env, dir.resolve("stdout.txt"), dir.resolve("stderr.txt"), args);
    }

    private List<String> stderr() throws Exception {
        return Files.readAllLines(dir.resolve("stderr.txt"), StandardCharsets.UTF_8);
    }

    @Test
    void aBadSettingExitsWith2AndOneLineNamingTheKeyTheValueAndWhatIsAllowed() throws Exception {
        Process process = start(Map.of("CHANGEFLOW_POSTGRES_URL", "jdbc:postgresql://localhost/app",
                "CHANGEFLOW_KAFKA_BOOTSTRAP", "localhost:9092",
                "CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "sometimes"), "run", "capture");

        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(stderr()).containsExactly("changeflow capture: CHANGEFLOW_CAPTURE_SNAPSHOT_MODE=sometimes "
                + "(changeflow.capture.snapshot-mode): invalid value; allowed: one of incremental, initial, no_data");
    }

    @Test
    void aMissingServerIsABadSettingNotAReasonToStartAnEmbeddedOne() throws Exception {
        Process process = start(Map.of("CHANGEFLOW_HTTP_PORT", "0"), "run", "indexer");

        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(stderr()).singleElement().asString()
                .startsWith("changeflow indexer: CHANGEFLOW_KAFKA_BOOTSTRAP=<unset> (changeflow.kafka.bootstrap)")
                .contains("a value is required");
    }

    @Test
    void aBadOperationsPortIsNamedToo() throws Exception {
        Process process = start(Map.of("CHANGEFLOW_KAFKA_BOOTSTRAP", "localhost:9092",
                "CHANGEFLOW_HTTP_PORT", "eighty"), "run", "indexer");

        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(stderr()).containsExactly("changeflow indexer: CHANGEFLOW_HTTP_PORT=eighty (changeflow.http.port): "
                + "invalid value; allowed: an integer from 0 to 65535");
    }

    @Test
    void anUnknownServiceIsAUsageErrorListingTheChoices() throws Exception {
        Process process = start(Map.of(), "run", "everything");

        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(String.join("\n", stderr())).contains("everything", "capture, invalidator, indexer, all");
    }

    @Test
    void migrateBringsTheSchemaToTheLatestVersionAndAgainChangesNothing() throws Exception {
        var postgres = SharedServers.postgres();
        String database = postgres.createDatabase("migrate");
        Map<String, String> env = Map.of("CHANGEFLOW_POSTGRES_URL", postgres.jdbcUrl(database) + "?user="
                + postgres.user());

        Process first = start(env, "migrate");
        assertThat(first.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
        assertThat(first.exitValue()).isEqualTo(0);
        assertThat(Files.readString(dir.resolve("stdout.txt"))).containsPattern("is at version \\d+ \\([1-9]\\d* "
                + "migrations applied\\)");
        try (Connection c = postgres.connect(database); var s = c.createStatement();
                var rs = s.executeQuery("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'app' "
                        + "AND table_name IN ('tasks', 'projects')")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(2);
        }

        Process again = start(env, "migrate");
        assertThat(again.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
        assertThat(again.exitValue()).isEqualTo(0);
        assertThat(Files.readString(dir.resolve("stdout.txt"))).contains("(0 migrations applied)");
    }

    @Test
    void migrateWithoutADatabaseIsABadSetting() throws Exception {
        Process process = start(Map.of(), "migrate");

        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(stderr()).singleElement().asString()
                .startsWith("changeflow migrate: CHANGEFLOW_POSTGRES_URL=<unset> (changeflow.postgres.url)");
    }

    @Test
    void runAllIsReadyServesMetricsPropagatesAChangeAndStopsOnSigterm() throws Exception {
        try (CapturedDatabase world = new CapturedDatabase("r")) {
            int opsPort;
            try (ServerSocket socket = new ServerSocket(0)) {
                opsPort = socket.getLocalPort();
            }
            Map<String, String> env = new HashMap<>(world.captureSettings());
            env.putAll(world.consumerSettings());
            env.put("CHANGEFLOW_MODE", "dev");
            env.put("CHANGEFLOW_REDIS_URL", SharedServers.redis().uri().toString());
            env.put("CHANGEFLOW_INVALIDATOR_GROUP", world.id + "-invalidator");
            env.put("CHANGEFLOW_INDEXER_GROUP", world.id + "-indexer");
            env.put("CHANGEFLOW_INDEXER_LUCENE_DIRECTORY", dir.resolve("index").toString());
            env.put("CHANGEFLOW_INDEXER_HTTP_PORT", "0");
            env.put("CHANGEFLOW_HTTP_HOST", "127.0.0.1");
            env.put("CHANGEFLOW_HTTP_PORT", Integer.toString(opsPort));
            HttpClient http = HttpClient.newHttpClient();
            URI ops = URI.create("http://127.0.0.1:" + opsPort);

            Process process = start(env, "run", "all");
            try {
                await("/ready answers 200").atMost(Duration.ofSeconds(90)).ignoreExceptions()
                        .until(() -> get(http, ops.resolve("/ready")).statusCode() == 200);
                assertThat(get(http, ops.resolve("/ready")).body()).isEqualTo("{\"status\":\"READY\",\"services\":{"
                        + "\"capture\":\"READY\",\"indexer\":\"READY\",\"invalidator\":\"READY\"}}\n");
                assertThat(get(http, ops.resolve("/health")).statusCode()).isEqualTo(200);
                world.awaitSlotActive();

                try (Connection c = world.sql()) {
                    UUID organization = AppRows.organization(c);
                    UUID project = UUID.randomUUID();
                    AppRows.project(c, project, organization);
                    AppRows.task(c, UUID.randomUUID(), project, "hello from run all");
                }

                await("the change counted by every stage in /metrics").atMost(Duration.ofSeconds(60))
                        .untilAsserted(() -> assertThat(get(http, ops.resolve("/metrics")).body())
                                .containsPattern("changeflow_capture_events_total\\{op=\"create\",table=\"tasks\"} 1\\.0")
                                .containsPattern("changeflow_indexer_documents_total\\{outcome=\"applied\",type=\"tasks\"} 1\\.0")
                                .containsPattern("changeflow_invalidator_keys_requested_keys_total [1-9]")
                                .contains("changeflow_capture_commit_to_published_seconds_count",
                                        "jvm_memory_used_bytes"));
            } finally {
                process.destroy(); // SIGTERM
                assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
            }
            assertThat(process.exitValue()).isEqualTo(143);
            assertThat(Files.readString(dir.resolve("stdout.txt"))).doesNotContain("ERROR");
        }
    }

    private static HttpResponse<String> get(HttpClient http, URI uri) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
