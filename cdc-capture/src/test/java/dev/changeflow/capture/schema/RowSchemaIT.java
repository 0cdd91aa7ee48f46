package dev.changeflow.capture.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.changeflow.capture.CaptureService;
import dev.changeflow.capture.internal.RowSchemaVersions;
import dev.changeflow.capture.testing.CapturedDatabase;
import dev.changeflow.config.Settings;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import dev.changeflow.router.Op;
import dev.changeflow.router.schema.TableShape;
import dev.changeflow.router.service.AdminApi;
import dev.changeflow.router.service.BearerToken;
import dev.changeflow.router.service.OpsEndpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Row schemas on real servers: versions registered in capture's schema topic (served with Confluent's paths) or in a
 * real Apicurio Registry; an incompatible migration published anyway under a new version, and flagged.
 */
class RowSchemaIT {
    private static final String TOKEN = "row-schema-tests-admin-token-0123456789";
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void anIncompatibleMigrationIsPublishedUnderANewVersionAndFlaggedWithItsColumnsModeAndConsumers()
            throws Exception {
        ListAppender<ILoggingEvent> log = listen();
        try (CapturedDatabase world = new CapturedDatabase("r")) {
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            CaptureService capture = world.startCapture(meters);
            String topic = world.topic("tasks");
            String subject = topic + "-value";
            String group = world.id + "-app-team";
            // A consumer group of the topic: the team an incompatible change affects.
            world.admin.alterConsumerGroupOffsets(group, Map.of(new TopicPartition(topic, 0),
                    new OffsetAndMetadata(0))).all().get();
            insertTask(world, "before the migration");
            try (Connection c = world.sql(); Statement s = c.createStatement()) {
                s.execute("ALTER TABLE app.tasks RENAME COLUMN title TO name");
            }
            insertTask(world, "after the migration");

            List<ChangeEvent> events = await("both tasks published").atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(250)).until(() -> tasks(world), list -> list.size() >= 2);
            ChangeEvent before = events.stream().filter(e -> "before the migration".equals(e.after().get("title")))
                    .findFirst().orElseThrow();
            ChangeEvent after = events.stream().filter(e -> "after the migration".equals(e.after().get("name")))
                    .findFirst().orElseThrow();
            assertThat(before.rowSchema().subject()).isEqualTo(subject);
            assertThat(before.rowSchema().version()).isEqualTo(1);
            assertThat(after.rowSchema().version()).isEqualTo(2);
            assertThat(after.rowSchema().id()).isNotEqualTo(before.rowSchema().id());

            assertThat(meters.get("changeflow.capture.schema.incompatible.changes").tags("table", "tasks", "mode",
                    "BACKWARD").counter().count()).isEqualTo(1.0);
            assertThat(meters.get("changeflow.capture.schema.version").tags("table", "tasks").gauge().value())
                    .isEqualTo(2.0);
            assertThat(messages(log)).anySatisfy(line -> assertThat(line)
                    .contains("Incompatible schema change of app.tasks under BACKWARD", "columns [name]",
                            "column name (text NOT NULL) added"));
            await("the affected consumers named").atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(messages(log)).anySatisfy(line -> assertThat(line)
                            .contains("Consumers affected by the incompatible schema change of app.tasks", group)));
            assertThat(capture.state()).isEqualTo(CaptureService.State.RUNNING);

            // The schema topic, read-only, with Confluent's paths and shapes, with the admin token.
            Settings opsSettings = Settings.of(Map.of("CHANGEFLOW_HTTP_PORT", "0", "CHANGEFLOW_HTTP_HOST",
                    "127.0.0.1", "CHANGEFLOW_ADMIN_TOKEN", TOKEN));
            OpsEndpoint ops = world.closeLater(OpsEndpoint.start(opsSettings, OpsEndpoint.newRegistry(),
                    () -> List.of(capture)));
            new AdminApi(BearerToken.from(opsSettings), capture.adminRoutes()).install(ops);
            URI base = ops.uri().resolve("/schemas/");
            assertThat(get(base.resolve("subjects")).get(200)).extracting(JsonNode::asText).contains(subject);
            assertThat(get(base.resolve("subjects/" + subject + "/versions")).get(200).toString())
                    .isEqualTo("[1,2]");
            JsonNode latest = get(base.resolve("subjects/" + subject + "/versions/latest")).get(200);
            assertThat(latest.get("version").asInt()).isEqualTo(2);
            assertThat(latest.get("id").asInt()).isEqualTo(after.rowSchema().id());
            assertThat(latest.get("schemaType").asText()).isEqualTo("JSON");
            // Under BACKWARD a dropped column breaks nothing; the new required one does (older events lack it).
            assertThat(latest.get("breaking")).extracting(JsonNode::asText)
                    .containsExactly("column name (text NOT NULL) added");
            assertThat(TableShape.fromJsonSchema(latest.get("schema").asText()).columnNames()).contains("name")
                    .doesNotContain("title");
            JsonNode byId = get(base.resolve("schemas/ids/" + before.rowSchema().id())).get(200);
            assertThat(TableShape.fromJsonSchema(byId.get("schema").asText()).columnNames()).contains("title");
            assertThat(get(base.resolve("config/" + subject)).get(200).get("compatibilityLevel").asText())
                    .isEqualTo("BACKWARD");
            assertThat(get(base.resolve("subjects/nothing-value/versions")).get(404).get("error_code").asInt())
                    .isEqualTo(40401);
            assertThat(get(base.resolve("subjects/" + subject + "/versions/9")).get(404).get("error_code").asInt())
                    .isEqualTo(40402);
            assertThat(HTTP.send(HttpRequest.newBuilder(base.resolve("subjects")).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode()).as("without the token").isEqualTo(401);
        }
    }

    @Test
    void versionsAreRegisteredInARealSchemaRegistryAndReadWithConfluentsApiPaths() throws Exception {
        Assumptions.assumeTrue(ApicurioRegistry.available(), "Apicurio Registry needs Java 21+ (none under "
                + "/usr/lib/jvm) and its distribution unpacked by the build (target/apicurio-registry)");
        Path logs = Files.createDirectories(Path.of("target", "registry-logs"));
        try (ApicurioRegistry registry = ApicurioRegistry.start(logs.resolve("apicurio.log"));
                CapturedDatabase world = new CapturedDatabase("g")) {
            world.withCapture("CHANGEFLOW_CAPTURE_SCHEMA_REGISTRY_URL", registry.api().toString());
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            world.startCapture(meters);
            String subject = world.topic("tasks") + "-value";
            insertTask(world, "first");
            try (Connection c = world.sql(); Statement s = c.createStatement()) {
                // Narrows a type, which breaks BACKWARD: capture registers it anyway (past the registry's 409 if
                // it refuses) and flags it.
                s.execute("ALTER TABLE app.tasks ALTER COLUMN description TYPE varchar(5000)");
                s.execute("ALTER TABLE app.tasks ADD COLUMN estimate int");
            }
            insertTask(world, "second");
            List<ChangeEvent> events = await("both tasks published").atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(250)).until(() -> tasks(world), list -> list.size() >= 2);

            assertThat(get(registry.api().resolve("subjects/" + subject + "/versions")).get(200).toString())
                    .isEqualTo("[1,2]");
            for (ChangeEvent event : events) {
                JsonNode version = get(registry.api().resolve("subjects/" + subject + "/versions/"
                        + event.rowSchema().version())).get(200);
                assertThat(version.get("id").asInt()).isEqualTo(event.rowSchema().id());
                JsonNode byId = get(registry.api().resolve("schemas/ids/" + event.rowSchema().id())).get(200);
                assertThat(TableShape.fromJsonSchema(byId.get("schema").asText()).columnNames())
                        .containsExactlyElementsOf(event.after().keySet());
            }
            assertThat(events.get(events.size() - 1).after()).containsKeys("estimate");
            assertThat(get(registry.api().resolve("config/" + subject)).get(200).get("compatibilityLevel").asText())
                    .as("the subject's level, set back after the forced registration").isEqualTo("BACKWARD");
            assertThat(meters.get("changeflow.capture.schema.incompatible.changes").tags("table", "tasks")
                    .counter().count()).isEqualTo(1.0);
        }
    }

    private static void insertTask(CapturedDatabase world, String title) throws Exception {
        try (Connection c = world.sql(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO app.organizations (id, name) VALUES ('00000000-0000-0000-0000-000000000001', "
                    + "'o') ON CONFLICT DO NOTHING");
            s.execute("INSERT INTO app.projects (id, organization_id, name) VALUES "
                    + "('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000001', 'p') "
                    + "ON CONFLICT DO NOTHING");
            String column = hasColumn(c, "title") ? "title" : "name";
            s.execute("INSERT INTO app.tasks (project_id, " + column + ") VALUES "
                    + "('00000000-0000-0000-0000-000000000002', '" + title + "')");
        }
    }

    private static boolean hasColumn(Connection c, String column) throws Exception {
        try (var rs = c.createStatement().executeQuery("SELECT 1 FROM information_schema.columns WHERE "
                + "table_schema = 'app' AND table_name = 'tasks' AND column_name = '" + column + "'")) {
            return rs.next();
        }
    }

    /** The create events of tasks on the world's topic, read_committed, in commit order. */
    private static List<ChangeEvent> tasks(CapturedDatabase world) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, world.kafka.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<ChangeEvent> events = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(world.topic("tasks")).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> events.add(ChangeEventCodec.decodeChecked(
                        r.value())));
            }
        }
        // Rows read by the first snapshot (it may run after the inserts) are not what these tests follow.
        events.removeIf(e -> e.op() != Op.CREATE);
        events.sort((a, b) -> Long.compareUnsigned(a.source().lsn(), b.source().lsn()));
        return events;
    }

    private record Answer(int status, JsonNode body) {
        JsonNode get(int expected) {
            assertThat(status).as("status of %s", body).isEqualTo(expected);
            return body;
        }
    }

    private static Answer get(URI uri) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(uri)
                .header("Authorization", "Bearer " + TOKEN).GET().build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(response.statusCode(), JSON.readTree(response.body()));
    }

    private static ListAppender<ILoggingEvent> listen() {
        Logger logger = (Logger) LoggerFactory.getLogger(RowSchemaVersions.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        return appender;
    }

    private static List<String> messages(ListAppender<ILoggingEvent> appender) {
        synchronized (appender.list) {
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }
}
