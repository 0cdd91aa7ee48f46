package dev.changeflow.capture;

import static org.awaitility.Awaitility.await;

import dev.changeflow.config.Settings;
import dev.changeflow.db.SchemaMigrations;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import dev.changeflow.stack.KafkaServer;
import dev.changeflow.stack.PostgresServer;
import dev.changeflow.stack.SharedServers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * One capture test's world on the shared servers: its own database (migrated with the real migrations), slot,
 * publication, topics and offsets topic, plus a consumer that reads its topics from the beginning.
 */
final class CaptureHarness implements AutoCloseable {
    final PostgresServer postgres = SharedServers.postgres();
    final KafkaServer kafka;
    final String id = "t" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    final String database;
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Map<String, String> settings = new HashMap<>();
    private final List<CaptureService> services = new ArrayList<>();
    private KafkaConsumer<String, byte[]> consumer;
    private final List<Received> received = new ArrayList<>();

    /** An event as read from Kafka, with where it was. */
    record Received(String topic, int partition, long offset, String key, Map<String, String> headers,
            ChangeEvent event) {
    }

    CaptureHarness() throws SQLException {
        this(SharedServers.kafka());
    }

    /** A world whose topics are on {@code kafka} instead of the shared broker. */
    CaptureHarness(KafkaServer kafka) throws SQLException {
        this.kafka = kafka;
        database = postgres.createDatabase("capture");
        SchemaMigrations.apply(postgres.dataSource(database));
        settings.put("CHANGEFLOW_POSTGRES_URL", postgres.jdbcUrl(database) + "?user=" + postgres.user());
        settings.put("CHANGEFLOW_KAFKA_BOOTSTRAP", kafka.bootstrapServers());
        settings.put("CHANGEFLOW_CAPTURE_SLOT", id);
        settings.put("CHANGEFLOW_CAPTURE_PUBLICATION", id + "_pub");
        settings.put("CHANGEFLOW_CAPTURE_OFFSETS_TOPIC", id + ".offsets");
        settings.put("CHANGEFLOW_CAPTURE_SCHEMA_TOPIC", id + ".schemas");
        settings.put("CHANGEFLOW_ROUTER_TOPIC_REPLACEMENT", id + ".$1-changes");
        settings.put("CHANGEFLOW_ROUTER_STATE_TOPICS", "tasks=" + id + ".task.state,projects=" + id + ".project.state");
        settings.put("CHANGEFLOW_TOPICS_PARTITIONS", "tasks=8,projects=4");
        settings.put("CHANGEFLOW_TOPICS_REPLICATION_FACTOR", "1");
        settings.put("CHANGEFLOW_TOPICS_MIN_INSYNC_REPLICAS", "1");
        settings.put("CHANGEFLOW_CAPTURE_HEARTBEAT_INTERVAL", "1s");
        settings.put("CHANGEFLOW_CAPTURE_OFFSET_FLUSH_INTERVAL", "500ms");
        settings.put("CHANGEFLOW_MODE", "production");
    }

    CaptureHarness with(String key, String value) {
        settings.put(key, value);
        return this;
    }

    Map<String, String> settings() {
        return Map.copyOf(settings);
    }

    String topic(String table) {
        return id + "." + table + "-changes";
    }

    /**
     * Starts a capture service in this JVM and waits until its replication slot is active, so that every write from
     * then on is captured. It is closed with the harness.
     */
    CaptureService startCapture() {
        CaptureService service = CaptureService.create(Settings.of(settings), registry);
        services.add(service);
        service.start();
        awaitSlotActive();
        return service;
    }

    /** Waits until this test's slot exists and a capture process is reading it. */
    void awaitSlotActive() {
        await("replication slot " + id + " active").atMost(Duration.ofSeconds(60)).until(() -> {
            try (Connection c = postgres.connect(database); var s = c.createStatement();
                    var rs = s.executeQuery("SELECT active FROM pg_replication_slots WHERE slot_name = '" + id + "'")) {
                return rs.next() && rs.getBoolean(1);
            }
        });
    }

    Connection sql() throws SQLException {
        return postgres.connect(database);
    }

    /** Polls both change topics until {@code done} holds for everything received so far. */
    List<Received> awaitEvents(Predicate<List<Received>> done, Duration timeout) {
        if (consumer == null) {
            // Assigned, not subscribed: a group rebalance (a broker restarting) must not move the position back to
            // the start, which would read everything twice.
            consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                    ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000),
                    new StringDeserializer(), new ByteArrayDeserializer());
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : List.of(topic("tasks"), topic("projects"))) {
                await("topic " + topic).atMost(timeout).until(() -> !consumer.partitionsFor(topic).isEmpty());
                consumer.partitionsFor(topic).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        }
        await("change events on " + topic("tasks") + " and " + topic("projects"))
                .atMost(timeout).pollInterval(Duration.ofMillis(50)).until(() -> {
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                        Map<String, String> headers = new HashMap<>();
                        for (Header h : r.headers()) {
                            headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
                        }
                        received.add(new Received(r.topic(), r.partition(), r.offset(), r.key(), headers,
                                ChangeEventCodec.decode(r.value())));
                    }
                    return done.test(List.copyOf(received));
                });
        return List.copyOf(received);
    }

    /** Waits until {@code count} more events have arrived than so far (capture is streaming). */
    List<Received> awaitMore(int count, Duration timeout) {
        int before = awaitCount(0, Duration.ofSeconds(5)).size();
        return awaitCount(before + count, timeout);
    }

    /** Waits until at least {@code count} events have arrived. */
    List<Received> awaitCount(int count, Duration timeout) {
        return awaitEvents(events -> events.size() >= count, timeout);
    }

    @Override
    public void close() {
        services.forEach(CaptureService::close);
        if (consumer != null) {
            consumer.close();
        }
        dropSlot();
    }

    private void dropSlot() {
        try (Connection c = postgres.connect(database); var s = c.createStatement()) {
            s.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                    + "WHERE slot_name = '" + id + "' AND NOT active");
        } catch (SQLException e) {
            // The slot is per-test and the database is throwaway; a leftover only costs disk.
        }
    }
}
