package dev.changeflow.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.changeflow.capture.testing.CapturedDatabase;
import dev.changeflow.capture.testing.MainProcess;
import dev.changeflow.stack.AppRows;
import dev.changeflow.stack.SharedServers;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API of real service processes ({@code changeflow run capture} and {@code changeflow run invalidator}) on
 * real Postgres, Kafka and Redis: every admin endpoint needs the token; lag, slot and dead-letter metrics; topic
 * creation, rebalance and the slot reset over HTTP.
 */
class AdminApiIT {
    private static final String TOKEN = "admin-api-it-token-0123456789abcdef";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    private record Service(Process process, URI ops) {
    }

    @Test
    void everyAdminEndpointNeedsTheTokenAndServesLagSlotsTopicsRebalanceAndResetWithIt() throws Exception {
        try (CapturedDatabase world = new CapturedDatabase("a")) {
            String group = world.id + "-invalidator";
            Service capture = start(world, "capture", Map.of());
            Service invalidator = start(world, "invalidator", Map.of());
            try {
                awaitReady(capture);
                awaitReady(invalidator);
                world.awaitSlotActive();

                // Authentication: every admin endpoint, without the token and with a wrong one.
                List<String[]> endpoints = List.of(new String[] {"GET", "/lag"}, new String[] {"GET", "/slots"},
                        new String[] {"POST", "/slots/" + world.id + "/reset"}, new String[] {"POST", "/topic"},
                        new String[] {"POST", "/consumer/rebalance"});
                for (Service service : List.of(capture, invalidator)) {
                    for (String[] endpoint : endpoints) {
                        assertThat(call(service, endpoint[0], endpoint[1], null, "{}").statusCode())
                                .as("%s %s without a token", endpoint[0], endpoint[1]).isEqualTo(401);
                        assertThat(call(service, endpoint[0], endpoint[1], TOKEN + "-wrong", "{}").statusCode())
                                .as("%s %s with a wrong token", endpoint[0], endpoint[1]).isEqualTo(401);
                        assertThat(call(service, endpoint[0], endpoint[1], TOKEN.substring(1), "{}").statusCode())
                                .as("%s %s with a prefix of the token", endpoint[0], endpoint[1]).isEqualTo(401);
                    }
                    assertThat(call(service, "GET", "/metrics", null, null).statusCode()).isEqualTo(200);
                    assertThat(call(service, "GET", "/ready", null, null).statusCode()).isEqualTo(200);
                }

                // Lag: 0 while the invalidator keeps up; grows while it is stopped; back to 0 after its restart.
                insertTasks(world, 1);
                awaitLag(capture, group, lag -> lag == 0);
                invalidator.process().destroy();
                assertThat(invalidator.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
                insertTasks(world, 25);
                awaitLag(capture, group, lag -> lag >= 25);
                await("the lag gauge in the capture process's /metrics").atMost(Duration.ofSeconds(30))
                        .until(() -> metric(capture, "changeflow_consumer_lag\\{group=\"" + group
                                + "\",topic=\"" + Pattern.quote(world.topic("tasks")) + "\"}") >= 25);
                invalidator = start(world, "invalidator", Map.of());
                awaitReady(invalidator);
                awaitLag(capture, group, lag -> lag == 0);
                Service restarted = invalidator;
                await("the lag gauge back to 0").atMost(Duration.ofSeconds(30))
                        .until(() -> metric(capture, "changeflow_consumer_lag\\{group=\"" + group
                                + "\",topic=\"" + Pattern.quote(world.topic("tasks")) + "\"}") == 0);

                // Dead letters: a poison record is counted by the consumer and by the broker-side gauge.
                try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
                        world.kafka.bootstrapServers()), new StringSerializer(), new ByteArraySerializer())) {
                    producer.send(new ProducerRecord<>(world.topic("tasks"), "tasks:poison",
                            "not an event".getBytes(StandardCharsets.UTF_8))).get();
                }
                String dlt = world.topic("tasks") + ".dlt";
                await("the dead letter in both processes' /metrics").atMost(Duration.ofSeconds(60)).until(() ->
                        metric(restarted, "changeflow_subscription_records_total\\{group=\"" + group
                                + "\",outcome=\"dead_lettered\",topic=\"" + Pattern.quote(world.topic("tasks"))
                                + "\"}") == 1
                        && metric(capture, "changeflow_dlt_records\\{topic=\"" + Pattern.quote(dlt) + "\"}") == 1);
                await("the slot gauges").atMost(Duration.ofSeconds(30)).until(() ->
                        metric(capture, "changeflow_capture_slot_active\\{slot=\"" + world.id + "\"}") == 1
                        && metric(capture, "changeflow_capture_slot_retained_bytes\\{slot=\"" + world.id + "\"}") > 0);

                // GET /slots
                JsonNode slots = JSON.readTree(call(capture, "GET", "/slots", TOKEN, null).body());
                JsonNode slot = null;
                for (JsonNode s : slots) {
                    if (s.get("name").asText().equals(world.id)) {
                        slot = s;
                    }
                }
                assertThat(slot).isNotNull();
                assertThat(slot.get("active").asBoolean()).isTrue();
                assertThat(slot.get("lease_holder").asText()).contains("changeflow-capture " + world.id);
                assertThat(slot.has("retained_wal_bytes") && slot.has("wal_status") && slot.has("safe_wal_size"))
                        .isTrue();

                // POST /topic
                String topic = world.id + ".comments-changes";
                String body = "{\"name\": \"" + topic + "\", \"partitions\": 3}";
                HttpResponse<String> created = call(capture, "POST", "/topic", TOKEN, body);
                assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
                assertThat(JSON.readTree(created.body()).get("configs").get("compression.type").asText())
                        .isEqualTo("lz4");
                assertThat(call(capture, "POST", "/topic", TOKEN, body).statusCode()).isEqualTo(409);
                assertThat(call(capture, "POST", "/topic", TOKEN, "{\"name\": 3}").statusCode()).isEqualTo(400);
                assertThat(world.admin.listTopics().names().get()).contains(topic);

                // POST /consumer/rebalance: the invalidator's group; capture consumes nothing.
                HttpResponse<String> rebalance = call(restarted, "POST", "/consumer/rebalance", TOKEN, "");
                assertThat(rebalance.statusCode()).as(rebalance.body()).isEqualTo(202);
                assertThat(rebalance.body()).contains(group);
                assertThat(call(capture, "POST", "/consumer/rebalance", TOKEN, "").statusCode()).isEqualTo(404);
                assertThat(call(capture, "DELETE", "/slots", TOKEN, null).statusCode()).isEqualTo(405);

                // POST /slots/{name}/reset: refused while capture runs, unless told to stop it.
                HttpResponse<String> refused = call(capture, "POST", "/slots/" + world.id + "/reset", TOKEN, "");
                assertThat(refused.statusCode()).isEqualTo(409);
                assertThat(refused.body()).contains("stop");
                HttpResponse<String> fromNow = call(capture, "POST", "/slots/" + world.id
                        + "/reset?mode=from-now&stop_capture=true", TOKEN, "");
                assertThat(fromNow.statusCode()).isEqualTo(409);
                assertThat(fromNow.body()).contains("accept");
                HttpResponse<String> reset = call(capture, "POST", "/slots/" + world.id
                        + "/reset?stop_capture=true", TOKEN, "");
                assertThat(reset.statusCode()).as(reset.body()).isEqualTo(200);
                assertThat(JSON.readTree(reset.body()).get("stopped_capture").asBoolean()).isTrue();
                world.awaitSlotActive();
                awaitLag(capture, group, lag -> lag == 0);
            } finally {
                for (Service service : List.of(capture, invalidator)) {
                    service.process().destroy();
                    service.process().waitFor(60, TimeUnit.SECONDS);
                }
            }
            assertThat(java.nio.file.Files.readString(dir.resolve("capture-stdout.txt"))).doesNotContain(TOKEN);
        }
    }

    @Test
    void withoutATokenTheAdminEndpointsAreOffNotOpen() throws Exception {
        try (CapturedDatabase world = new CapturedDatabase("o")) {
            Map<String, String> noToken = new HashMap<>();
            noToken.put("CHANGEFLOW_ADMIN_TOKEN", null);
            Service capture = start(world, "capture", noToken);
            try {
                awaitReady(capture);
                for (String[] endpoint : List.of(new String[] {"GET", "/lag"}, new String[] {"GET", "/slots"},
                        new String[] {"POST", "/slots/" + world.id + "/reset"}, new String[] {"POST", "/topic"},
                        new String[] {"POST", "/consumer/rebalance"})) {
                    HttpResponse<String> response = call(capture, endpoint[0], endpoint[1], TOKEN, "{}");
                    assertThat(response.statusCode()).as("%s %s", endpoint[0], endpoint[1]).isEqualTo(404);
                    assertThat(response.body()).contains("CHANGEFLOW_ADMIN_TOKEN");
                }
                assertThat(call(capture, "GET", "/metrics", null, null).statusCode()).isEqualTo(200);
            } finally {
                capture.process().destroy();
                capture.process().waitFor(60, TimeUnit.SECONDS);
            }
        }
    }

    private Service start(CapturedDatabase world, String service, Map<String, String> overrides) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Map<String, String> env = new HashMap<>(world.captureSettings());
        env.putAll(world.consumerSettings());
        env.put("CHANGEFLOW_MODE", "dev");
        env.put("CHANGEFLOW_REDIS_URL", SharedServers.redis().uri().toString());
        env.put("CHANGEFLOW_INVALIDATOR_GROUP", world.id + "-invalidator");
        env.put("CHANGEFLOW_CAPTURE_LAG_CHECK_INTERVAL", "300ms");
        env.put("CHANGEFLOW_CAPTURE_SLOT_CHECK_INTERVAL", "300ms");
        env.put("CHANGEFLOW_HTTP_HOST", "127.0.0.1");
        env.put("CHANGEFLOW_HTTP_PORT", Integer.toString(port));
        env.put("CHANGEFLOW_ADMIN_TOKEN", TOKEN);
        overrides.forEach((k, v) -> {
            if (v == null) {
                env.remove(k);
            } else {
                env.put(k, v);
            }
        });
        Process process = MainProcess.start(Changeflow.class, env, dir.resolve(service + "-stdout.txt"),
                dir.resolve(service + "-stderr.txt"), "run", service);
        return new Service(process, URI.create("http://127.0.0.1:" + port));
    }

    private void awaitReady(Service service) {
        await("/ready of " + service.ops()).atMost(Duration.ofSeconds(90)).ignoreExceptions()
                .until(() -> call(service, "GET", "/ready", null, null).statusCode() == 200);
    }

    private void awaitLag(Service capture, String group, java.util.function.LongPredicate condition) {
        await("lag of " + group + " from GET /lag").atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
            JsonNode lag = JSON.readTree(call(capture, "GET", "/lag?group=" + group, TOKEN, null).body());
            return lag.get("groups").size() == 1 && condition.test(lag.get("total").asLong());
        });
    }

    private static void insertTasks(CapturedDatabase world, int count) throws Exception {
        try (Connection c = world.sql()) {
            UUID organization = AppRows.organization(c);
            UUID project = UUID.randomUUID();
            AppRows.project(c, project, organization);
            for (int i = 0; i < count; i++) {
                AppRows.task(c, UUID.randomUUID(), project, "task " + i);
            }
        }
    }

    /** The value of the first sample whose name and labels match {@code sample} (a regex), or -1 if absent. */
    private double metric(Service service, String sample) throws Exception {
        String body = call(service, "GET", "/metrics", null, null).body();
        Matcher m = Pattern.compile("(?m)^" + sample + " (\\S+)$").matcher(body);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    private HttpResponse<String> call(Service service, String method, String path, String token, String body)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(service.ops().resolve(path))
                .timeout(Duration.ofSeconds(90))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
