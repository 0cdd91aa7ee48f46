package dev.changeflow.indexer;

import dev.changeflow.capture.testing.MainProcess;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.stack.KafkaServer;
import dev.changeflow.stack.SharedServers;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The indexer as an operator runs it: its own process, configured from the environment. */
class IndexerMainIT {
    private static final KafkaServer KAFKA = SharedServers.kafka();

    @TempDir
    Path dir;

    @Test
    void aBadSettingExitsWith2AndOneLineOnStderrNamingTheSetting() throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("CHANGEFLOW_KAFKA_BOOTSTRAP", KAFKA.bootstrapServers());
        env.put("CHANGEFLOW_INDEXER_ENGINE", "elasticsearch");

        Process process = start(env);

        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("process exited").isTrue();
        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(Files.readAllLines(dir.resolve("stderr.txt"), StandardCharsets.UTF_8)).singleElement().asString()
                .startsWith("changeflow indexer: CHANGEFLOW_INDEXER_ENGINE=elasticsearch "
                        + "(changeflow.indexer.engine)")
                .contains("lucene, opensearch");
    }

    @Test
    void theProcessServesSearchUntilSigtermThenExitsWith143() throws Exception {
        String id = "m" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", KAFKA.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(id + ".tasks-changes", 2, (short) 1),
                    new NewTopic(id + ".projects-changes", 1, (short) 1))).all().get();
        }
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Map<String, String> env = new HashMap<>();
        env.put("CHANGEFLOW_KAFKA_BOOTSTRAP", KAFKA.bootstrapServers());
        env.put("CHANGEFLOW_ROUTER_TOPIC_REPLACEMENT", id + ".$1-changes");
        env.put("CHANGEFLOW_ROUTER_STATE_TOPICS", "tasks=" + id + ".task.state,projects=" + id + ".project.state");
        env.put("CHANGEFLOW_INDEXER_GROUP", id + "-indexer");
        env.put("CHANGEFLOW_INDEXER_LUCENE_DIRECTORY", dir.resolve("index").toString());
        env.put("CHANGEFLOW_INDEXER_HTTP_PORT", Integer.toString(port));
        env.put("CHANGEFLOW_ADMIN_TOKEN", IndexerHarness.SEARCH_TOKEN);
        Path log = dir.resolve("stdout.txt");

        Process process = start(env);
        await("the process running its subscription").atMost(Duration.ofSeconds(60))
                .until(() -> Files.readString(log).contains("Search indexer started: group " + id));
        HttpResponse<String> search = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/search/tasks?q=anything"))
                .header("Authorization", "Bearer " + IndexerHarness.SEARCH_TOKEN).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(search.statusCode()).isEqualTo(200);
        assertThat(search.body()).contains("\"total\" : 0");
        process.destroy(); // SIGTERM

        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("process exited").isTrue();
        assertThat(process.exitValue()).isEqualTo(143);
        assertThat(Files.readString(log)).contains("Search indexer " + id + "-indexer closed").doesNotContain("ERROR");
        assertThat(dir.resolve("index").resolve("tasks")).isDirectory();
    }

    private Process start(Map<String, String> env) throws Exception {
        return MainProcess.start(IndexerMain.class, env, dir.resolve("stdout.txt"), dir.resolve("stderr.txt"));
    }
}
