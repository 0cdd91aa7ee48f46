package dev.changeflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changeflow.router.subscription.DeadLetterHeaders;
import dev.changeflow.stack.SharedServers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code changeflow dlt} run in-process against the shared Kafka broker, configured by a properties file. */
class DltCommandIT {
    private final String bootstrap = SharedServers.kafka().bootstrapServers();
    private final String id = "c" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    private final String topic = id + ".tasks-changes";
    private final String dlt = topic + ".dlt";

    @TempDir
    Path dir;
    private Path config;

    @BeforeEach
    void deadLetters() throws Exception {
        config = dir.resolve("changeflow.properties");
        Files.writeString(config, "changeflow.kafka.bootstrap=" + bootstrap + "\n"
                + "changeflow.topics.replication-factor=1\n");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1), new NewTopic(dlt, 1, (short) 1))).all()
                    .get();
        }
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 3; i++) {
                RecordHeaders headers = new RecordHeaders();
                header(headers, DeadLetterHeaders.ORIGINAL_TOPIC, topic);
                header(headers, DeadLetterHeaders.ORIGINAL_PARTITION, "0");
                header(headers, DeadLetterHeaders.ORIGINAL_OFFSET, Integer.toString(i));
                header(headers, DeadLetterHeaders.REASON, DeadLetterHeaders.REASON_HANDLER_FAILED);
                header(headers, DeadLetterHeaders.ERROR_CLASS, "java.lang.IllegalStateException");
                header(headers, DeadLetterHeaders.ERROR_MESSAGE, "task " + i + " has no project " + "x".repeat(80));
                header(headers, DeadLetterHeaders.FAILED_AT, Instant.parse("2026-11-21T09:00:00Z")
                        .plusSeconds(3600L * i).toString());
                header(headers, DeadLetterHeaders.GROUP, "cache-invalidator");
                producer.send(new ProducerRecord<>(dlt, 0, "tasks:task-" + i,
                        ("{\"secret\":\"personal data " + i + "\"}").getBytes(StandardCharsets.UTF_8), headers)).get();
            }
        }
    }

    @Test
    void listShowsTheDeadLetterTopicWithItsCountsAndWithTopicItsRecordsButNeverTheirValues() {
        Run topics = run("list", "--config", config.toString());

        assertThat(topics.status()).as(topics.err()).isZero();
        assertThat(topics.out().lines().findFirst()).hasValueSatisfying(header -> assertThat(header.split("\\s+"))
                .containsExactly("topic", "records", "replayed", "pending"));
        assertThat(topics.out().lines().filter(l -> l.startsWith(dlt + " ")).findFirst())
                .hasValueSatisfying(line -> assertThat(line.split("\\s+")).containsExactly(dlt, "3", "0", "3"));

        Run records = run("list", "--config", config.toString(), "--topic", dlt, "--since", "2026-11-21T10:00:00Z");

        assertThat(records.status()).as(records.err()).isZero();
        List<String> lines = records.out().lines().toList();
        assertThat(lines.get(0).split("\\s+"))
                .containsExactly("partition", "offset", "failed-at", "key", "reason", "error", "replayed");
        assertThat(lines.get(1)).startsWith("0          1       2026-11-21T10:00:00Z  tasks:task-1  handler-failed  "
                + "IllegalStateException: task 1 has no project xxxxxxxxxxxxxx…  no");
        assertThat(lines.get(2)).contains("tasks:task-2");
        assertThat(lines.get(3)).isEqualTo("2 record(s) (failed since 2026-11-21T10:00:00Z), 0 replayed, 2 pending");
        assertThat(records.out()).doesNotContain("personal data");
    }

    @Test
    void replayPrintsWhatItDoesAndItsSummaryAndASecondReplayReplaysNothing() {
        Run first = run("replay", "--config", config.toString(), "--topic", dlt);

        assertThat(first.status()).as(first.err()).isZero();
        assertThat(first.out()).contains("Replaying all records of " + dlt + " (3 records, 0 replayed before, "
                + "3 pending)").endsWith("replayed 3, already replayed 0, matched 3" + System.lineSeparator());

        Run second = run("replay", "--config", config.toString(), "--topic", dlt);

        assertThat(second.status()).as(second.err()).isZero();
        assertThat(second.out()).endsWith("replayed 0, already replayed 3, matched 3" + System.lineSeparator());
        Run records = run("list", "--config", config.toString(), "--topic", dlt);
        assertThat(records.out().lines().filter(l -> l.endsWith("  yes"))).hasSize(3);
    }

    @Test
    void replayByKeyReplaysOnlyThatKey() {
        Run byKey = run("replay", "--config", config.toString(), "--topic", dlt, "--key", "tasks:task-2");

        assertThat(byKey.status()).as(byKey.err()).isZero();
        assertThat(byKey.out()).endsWith("replayed 1, already replayed 0, matched 1" + System.lineSeparator());
        Run topics = run("list", "--config", config.toString());
        assertThat(topics.out().lines().filter(l -> l.startsWith(dlt + " ")).findFirst())
                .hasValueSatisfying(line -> assertThat(line.split("\\s+")).containsExactly(dlt, "3", "1", "2"));
    }

    @Test
    void aBadSinceExitsWith2NamingTheOptionAndTheAcceptedForms() {
        Run run = run("replay", "--config", config.toString(), "--topic", dlt, "--since", "yesterday");

        assertThat(run.status()).isEqualTo(2);
        assertThat(run.err()).contains("--since").contains("'yesterday' is not a time")
                .contains("2026-11-21T09:00:00Z").contains("2026-11-21T10:00:00+01:00");
        assertThat(run("list", "--config", config.toString(), "--topic", dlt, "--since", "2026-11-21T10:00:00+01:00")
                .status()).as("a date-time with offset is accepted").isZero();
    }

    @Test
    void anUnknownTopicOrKeyTogetherWithSinceIsABadUsage() {
        Run unknown = run("replay", "--config", config.toString(), "--topic", id + ".nothing.dlt");
        Run both = run("replay", "--config", config.toString(), "--topic", dlt, "--key", "k", "--since",
                "2026-11-21T09:00:00Z");

        assertThat(unknown.status()).isEqualTo(2);
        assertThat(unknown.err()).startsWith("changeflow dlt replay: Dead-letter topic " + id + ".nothing.dlt "
                + "does not exist");
        assertThat(both.status()).isEqualTo(2);
        assertThat(both.err()).contains("mutually exclusive");
    }

    private static Run run(String... args) {
        return Run.run(new DltCommand(), args);
    }

    private static void header(RecordHeaders headers, String name, String value) {
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
