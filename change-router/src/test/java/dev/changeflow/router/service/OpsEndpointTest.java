package dev.changeflow.router.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OpsEndpointTest {
    private static final Settings ANY_PORT = Settings.of(Map.of("CHANGEFLOW_HTTP_HOST", "127.0.0.1",
            "CHANGEFLOW_HTTP_PORT", "0"));
    private final HttpClient http = HttpClient.newHttpClient();
    private final PrometheusMeterRegistry registry = OpsEndpoint.newRegistry();
    private OpsEndpoint endpoint;

    /** A service whose state the test sets: the endpoint only reads name, readiness and termination. */
    private static final class FakeService implements ChangeflowService {
        private final String name;
        private final CompletableFuture<Void> terminated = new CompletableFuture<>();
        private volatile boolean ready;
        private volatile String problem;

        FakeService(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void start() {
            ready = true;
        }

        @Override
        public boolean isReady() {
            return ready && !terminated.isDone() && problem == null;
        }

        @Override
        public java.util.Optional<String> problem() {
            return java.util.Optional.ofNullable(problem);
        }

        @Override
        public CompletableFuture<Void> whenTerminated() {
            return terminated;
        }

        @Override
        public void close() {
            terminated.complete(null);
        }
    }

    @AfterEach
    void stop() {
        if (endpoint != null) {
            endpoint.close();
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(endpoint.uri() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aStalledServiceMakesReadyAnswer503WithItsReasonWhileHealthStays200() throws Exception {
        FakeService indexer = new FakeService("indexer");
        indexer.start();
        indexer.problem = "search-indexer: stalled 2 min on cdc.tasks-changes-7: this IndexWriter is \"closed\"";
        endpoint = OpsEndpoint.start(ANY_PORT, registry, () -> List.of(indexer));

        HttpResponse<String> ready = get("/ready");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).isEqualTo("{\"status\":\"NOT_READY\",\"services\":{\"indexer\":\"STALLED\"},"
                + "\"problems\":{\"indexer\":\"search-indexer: stalled 2 min on cdc.tasks-changes-7: this IndexWriter "
                + "is \\\"closed\\\"\"}}\n");
        assertThat(get("/health").statusCode()).as("alive: a stall is waited out, not restarted").isEqualTo(200);

        indexer.problem = null;
        assertThat(get("/ready").statusCode()).isEqualTo(200);
        assertThat(get("/ready").body()).doesNotContain("problems");
    }

    @Test
    void readyAnswers503UntilEveryServiceHasStartedAnd200Then() throws Exception {
        FakeService capture = new FakeService("capture");
        FakeService indexer = new FakeService("indexer");
        endpoint = OpsEndpoint.start(ANY_PORT, registry, () -> List.of(capture, indexer));

        capture.start();
        assertThat(get("/ready").statusCode()).isEqualTo(503);
        assertThat(get("/ready").body()).contains("\"capture\":\"READY\"", "\"indexer\":\"STARTING\"");
        indexer.start();
        HttpResponse<String> ready = get("/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).isEqualTo("{\"status\":\"READY\",\"services\":{\"capture\":\"READY\","
                + "\"indexer\":\"READY\"}}\n");
        indexer.close();
        assertThat(get("/ready").statusCode()).as("a stopping process is not ready").isEqualTo(503);
    }

    @Test
    void healthTurns503WhenAServiceFailed() throws Exception {
        FakeService capture = new FakeService("capture");
        endpoint = OpsEndpoint.start(ANY_PORT, registry, () -> List.of(capture));
        capture.start();
        assertThat(get("/health").statusCode()).isEqualTo(200);

        capture.whenTerminated().completeExceptionally(new IllegalStateException("slot dropped"));

        HttpResponse<String> health = get("/health");
        assertThat(health.statusCode()).isEqualTo(503);
        assertThat(health.body()).contains("\"status\":\"DOWN\"", "\"capture\":\"FAILED\"");
    }

    @Test
    void metricsServeTheRegistryAndTheJvmInPrometheusText() throws Exception {
        endpoint = OpsEndpoint.start(ANY_PORT, registry, List::of);
        Counter.builder("changeflow.test.things").register(registry).increment(3);

        HttpResponse<String> metrics = get("/metrics");

        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                .startsWith("text/plain"));
        assertThat(metrics.body()).contains("changeflow_test_things_total 3.0", "jvm_memory_used_bytes",
                "process_uptime_seconds");
    }

    @Test
    void onlyGetIsAllowed() throws Exception {
        endpoint = OpsEndpoint.start(ANY_PORT, registry, List::of);

        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(endpoint.uri() + "/ready"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(post.statusCode()).isEqualTo(405);
    }

    @Test
    void aTakenPortFailsNamingTheSettingAndWhatToDo() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            Settings settings = Settings.of(Map.of("CHANGEFLOW_HTTP_HOST", "127.0.0.1",
                    "CHANGEFLOW_HTTP_PORT", Integer.toString(taken.getLocalPort())));

            assertThatThrownBy(() -> OpsEndpoint.start(settings, registry, List::of))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("CHANGEFLOW_HTTP_PORT=" + taken.getLocalPort() + " (changeflow.http.port)")
                    .hasMessageContaining("choose a free port, or 0 for any");
        }
    }
}
