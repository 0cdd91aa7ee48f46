package dev.changeflow.capture.testing;

import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.CaptureService;
import dev.changeflow.config.Settings;
import dev.changeflow.db.SchemaMigrations;
import dev.changeflow.router.TopicRouter;
import dev.changeflow.router.topics.ConsumerLag;
import dev.changeflow.stack.KafkaServer;
import dev.changeflow.stack.PostgresServer;
import dev.changeflow.stack.SharedServers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

/**
 * A consumer test's world on the shared servers, up to Kafka: its own database (migrated with the real migrations,
 * commits reaching logical decoding at once), capture running in this JVM with its own slot, publication, offsets
 * topic and change topics ({@code <id>.tasks-changes}, {@code <id>.projects-changes}). Consumer modules' tests
 * build their harness on it (published in cdc-capture's test jar) and add their own consumer and its settings.
 */
public final class CapturedDatabase implements AutoCloseable {
    public final PostgresServer postgres = SharedServers.postgres();
    public final KafkaServer kafka;
    /** Prefix of everything this world names: slot, topics, groups, keys, indices. */
    public final String id;
    public final String database;
    public final Admin admin;
    private final Map<String, String> common = new HashMap<>();
    private final Map<String, String> captureSettings = new HashMap<>();
    private final List<AutoCloseable> closers = new ArrayList<>();

    /** A world whose id starts with {@code letter} (to tell worlds of different suites apart in logs). */
    public CapturedDatabase(String letter) throws SQLException {
        this(letter, SharedServers.kafka());
    }

    /** A world on {@code kafka}, a broker of the test's own (to stop and restart it), instead of the shared one. */
    public CapturedDatabase(String letter, KafkaServer kafka) throws SQLException {
        this.kafka = kafka;
        id = letter + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        database = postgres.createDatabase(letter + "db");
        SchemaMigrations.apply(postgres.dataSource(database));
        try (Connection c = postgres.connect(database); Statement s = c.createStatement()) {
            // The embedded server commits asynchronously; per database, make commits reach decoding at once.
            s.execute("ALTER DATABASE " + database + " SET synchronous_commit = on");
        }
        common.put("CHANGEFLOW_POSTGRES_URL", postgres.jdbcUrl(database) + "?user=" + postgres.user());
        if (postgres.password() != null) {
            common.put("CHANGEFLOW_POSTGRES_PASSWORD", postgres.password());
        }
        common.put("CHANGEFLOW_KAFKA_BOOTSTRAP", kafka.bootstrapServers());
        common.put("CHANGEFLOW_ROUTER_TOPIC_REPLACEMENT", id + ".$1-changes");
        common.put("CHANGEFLOW_ROUTER_STATE_TOPICS", "tasks=" + id + ".task.state,projects=" + id + ".project.state");

        captureSettings.putAll(common);
        captureSettings.put("CHANGEFLOW_CAPTURE_SLOT", id);
        captureSettings.put("CHANGEFLOW_CAPTURE_PUBLICATION", id + "_pub");
        captureSettings.put("CHANGEFLOW_CAPTURE_OFFSETS_TOPIC", id + ".offsets");
        captureSettings.put("CHANGEFLOW_CAPTURE_SCHEMA_TOPIC", id + ".schemas");
        captureSettings.put("CHANGEFLOW_TOPICS_PARTITIONS", "tasks=8,projects=4");
        captureSettings.put("CHANGEFLOW_TOPICS_REPLICATION_FACTOR", "1");
        captureSettings.put("CHANGEFLOW_TOPICS_MIN_INSYNC_REPLICAS", "1");
        captureSettings.put("CHANGEFLOW_CAPTURE_HEARTBEAT_INTERVAL", "1s");
        captureSettings.put("CHANGEFLOW_CAPTURE_OFFSET_FLUSH_INTERVAL", "500ms");
        admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    }

    /**
     * The settings every consumer of this world needs: where Postgres and Kafka are, and the topic names; plus
     * test-friendly backoffs (an outage is noticed to be over within half a second) and a 100 ms commit interval.
     */
    public Map<String, String> consumerSettings() {
        Map<String, String> settings = new HashMap<>(common);
        settings.put("CHANGEFLOW_SUBSCRIPTION_RETRY_BACKOFF", "20ms");
        settings.put("CHANGEFLOW_SUBSCRIPTION_RETRY_MAX_BACKOFF", "100ms");
        settings.put("CHANGEFLOW_SUBSCRIPTION_OUTAGE_BACKOFF", "50ms");
        settings.put("CHANGEFLOW_SUBSCRIPTION_OUTAGE_MAX_BACKOFF", "500ms");
        settings.put("CHANGEFLOW_SUBSCRIPTION_COMMIT_INTERVAL", "100ms");
        return settings;
    }

    /** Sets a capture setting (by environment name or key) for captures started from now on. */
    public CapturedDatabase withCapture(String key, String value) {
        captureSettings.put(key, value);
        return this;
    }

    /**
     * Starts capture in this JVM and waits until its replication slot is active, so that every write from then on is
     * captured (writes before that are lost to streaming). Closed with the world.
     */
    public CaptureService startCapture() {
        return startCapture(new SimpleMeterRegistry());
    }

    /** {@link #startCapture()}, with its meters in {@code registry}. */
    public CaptureService startCapture(io.micrometer.core.instrument.MeterRegistry registry) {
        CaptureService capture = CaptureService.create(Settings.of(Map.copyOf(captureSettings)), registry);
        closeLater(capture);
        capture.start();
        awaitSlotActive();
        return capture;
    }

    /** The settings a capture of this world runs with (environment names), for a capture in another process. */
    public Map<String, String> captureSettings() {
        return Map.copyOf(captureSettings);
    }

    /** Waits until a capture (in this JVM or another process) holds this world's replication slot. */
    public void awaitSlotActive() {
        await("replication slot " + id + " active").atMost(Duration.ofSeconds(60)).until(() -> {
            try (Connection c = postgres.connect(database); var s = c.createStatement();
                    var rs = s.executeQuery("SELECT active FROM pg_replication_slots WHERE slot_name = '" + id + "'")) {
                return rs.next() && rs.getBoolean(1);
            }
        });
    }

    /** Closes {@code resource} with the world, before what was registered earlier (reverse order). */
    public <T extends AutoCloseable> T closeLater(T resource) {
        closers.add(resource);
        return resource;
    }

    public Connection sql() throws SQLException {
        return postgres.connect(database);
    }

    public String topic(String table) {
        return TopicRouter.of("(.*)", id + ".$1-changes").topicFor(table);
    }

    public List<String> topics() {
        return List.of(topic("tasks"), topic("projects"));
    }

    /** The committed lag of {@code group} on this world's topics. */
    public ConsumerLag lag(String group) throws ExecutionException, InterruptedException {
        return ConsumerLag.of(admin, group, topics());
    }

    /** Records on the end of every partition of the topics, that is records ever written to them. */
    public long endOffsets() throws ExecutionException, InterruptedException {
        return lag(id + "-none").partitions().stream().mapToLong(p -> p.end()).sum();
    }

    /** Records on the dead-letter topics of this world's change topics, counted from their end offsets. */
    public long deadLetters() throws ExecutionException, InterruptedException {
        List<String> dlts = topics().stream().map(TopicRouter::deadLetterTopicFor).toList();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        admin.describeTopics(dlts).allTopicNames().get().values().forEach(d -> d.partitions()
                .forEach(p -> latest.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest())));
        return admin.listOffsets(latest).all().get().values().stream().mapToLong(r -> r.offset()).sum();
    }

    /** All partitions of this world's change topics. */
    public Set<TopicPartition> partitions() throws ExecutionException, InterruptedException {
        Set<TopicPartition> all = new LinkedHashSet<>();
        admin.describeTopics(topics()).allTopicNames().get().values().forEach(d -> d.partitions()
                .forEach(p -> all.add(new TopicPartition(d.name(), p.partition()))));
        return all;
    }

    /**
     * Commits {@code count} title updates, cycling through {@code tasks}, in transactions of 1,000: a backlog for
     * throughput benchmarks. Returns when the last is committed (not yet captured).
     */
    public void writeTitleUpdates(List<UUID> tasks, int count) throws SQLException {
        try (Connection c = sql();
                var update = c.prepareStatement("UPDATE app.tasks SET title = ? WHERE id = ?")) {
            c.setAutoCommit(false);
            for (int i = 0; i < count; i++) {
                update.setString(1, "b" + i);
                update.setObject(2, tasks.get(i % tasks.size()));
                update.addBatch();
                if ((i + 1) % 1000 == 0) {
                    update.executeBatch();
                    c.commit();
                }
            }
            update.executeBatch();
            c.commit();
        }
    }

    /** Closes consumers and capture (reverse start order), the admin client, and drops the slot. */
    @Override
    public void close() throws Exception {
        for (int i = closers.size() - 1; i >= 0; i--) {
            closers.get(i).close();
        }
        admin.close();
        try (Connection c = postgres.connect(database); var s = c.createStatement()) {
            s.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                    + "WHERE slot_name = '" + id + "' AND NOT active");
        } catch (SQLException e) {
            // The slot is per-test and the database is throwaway; a leftover only costs disk.
        }
    }
}
