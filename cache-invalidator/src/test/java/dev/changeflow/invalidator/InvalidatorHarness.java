package dev.changeflow.invalidator;

import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.CaptureService;
import dev.changeflow.config.Settings;
import dev.changeflow.db.SchemaMigrations;
import dev.changeflow.router.TopicRouter;
import dev.changeflow.router.topics.ConsumerLag;
import dev.changeflow.stack.KafkaServer;
import dev.changeflow.stack.PostgresServer;
import dev.changeflow.stack.RedisServer;
import dev.changeflow.stack.SharedServers;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

/**
 * One invalidator test's world on the shared servers: its own database (migrated with the real migrations), capture
 * running in this JVM with its own slot, publication, offsets topic and change topics ({@code <id>.tasks-changes},
 * {@code <id>.projects-changes}), its own consumer group, and rules whose keys all start with {@code <id>:}, so no
 * two tests share a key. A Redis client seeds and reads keys.
 */
final class InvalidatorHarness implements AutoCloseable {
    final PostgresServer postgres = SharedServers.postgres();
    final KafkaServer kafka = SharedServers.kafka();
    final RedisServer redis;
    final String id = "i" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    final String database;
    final String group = id + "-invalidator";
    final Admin admin;
    private final Map<String, String> captureSettings = new HashMap<>();
    private final Map<String, String> invalidatorSettings = new HashMap<>();
    private final List<Runnable> closers = new ArrayList<>();
    private final ClientResources redisResources;
    private final RedisClient redisClient;
    private final StatefulRedisConnection<String, String> redisConnection;
    final Path rulesFile;

    InvalidatorHarness() throws SQLException, IOException {
        this(SharedServers.redis());
    }

    InvalidatorHarness(RedisServer redis) throws SQLException, IOException {
        this.redis = redis;
        database = postgres.createDatabase("invalidator");
        SchemaMigrations.apply(postgres.dataSource(database));
        try (Connection c = postgres.connect(database); Statement s = c.createStatement()) {
            // The embedded server commits asynchronously; per database, make commits reach decoding at once.
            s.execute("ALTER DATABASE " + database + " SET synchronous_commit = on");
        }
        Map<String, String> common = new HashMap<>();
        common.put("CHANGEFLOW_POSTGRES_URL", postgres.jdbcUrl(database) + "?user=" + postgres.user());
        if (postgres.password() != null) {
            common.put("CHANGEFLOW_POSTGRES_PASSWORD", postgres.password());
        }
        common.put("CHANGEFLOW_KAFKA_BOOTSTRAP", kafka.bootstrapServers());
        common.put("CHANGEFLOW_ROUTER_TOPIC_REPLACEMENT", id + ".$1-changes");

        captureSettings.putAll(common);
        captureSettings.put("CHANGEFLOW_CAPTURE_SLOT", id);
        captureSettings.put("CHANGEFLOW_CAPTURE_PUBLICATION", id + "_pub");
        captureSettings.put("CHANGEFLOW_CAPTURE_OFFSETS_TOPIC", id + ".offsets");
        captureSettings.put("CHANGEFLOW_TOPICS_PARTITIONS", "tasks=8,projects=4");
        captureSettings.put("CHANGEFLOW_TOPICS_REPLICATION_FACTOR", "1");
        captureSettings.put("CHANGEFLOW_TOPICS_MIN_INSYNC_REPLICAS", "1");
        captureSettings.put("CHANGEFLOW_CAPTURE_HEARTBEAT_INTERVAL", "1s");
        captureSettings.put("CHANGEFLOW_CAPTURE_OFFSET_FLUSH_INTERVAL", "500ms");

        rulesFile = Files.createTempFile(id + "-rules", ".yaml");
        rules("""
                tables:
                  tasks:
                    - "%1$s:task:{id}"
                    - "%1$s:project:{project_id}:tasks"
                  projects:
                    - "%1$s:project:{id}"
                """.formatted(id));
        invalidatorSettings.putAll(common);
        invalidatorSettings.put("CHANGEFLOW_REDIS_URL", redis.uri().toString());
        invalidatorSettings.put("CHANGEFLOW_INVALIDATOR_RULES_FILE", rulesFile.toString());
        invalidatorSettings.put("CHANGEFLOW_INVALIDATOR_GROUP", group);
        // Test-friendly backoffs: an outage is noticed to be over within half a second.
        invalidatorSettings.put("CHANGEFLOW_SUBSCRIPTION_RETRY_BACKOFF", "20ms");
        invalidatorSettings.put("CHANGEFLOW_SUBSCRIPTION_RETRY_MAX_BACKOFF", "100ms");
        invalidatorSettings.put("CHANGEFLOW_SUBSCRIPTION_OUTAGE_BACKOFF", "50ms");
        invalidatorSettings.put("CHANGEFLOW_SUBSCRIPTION_OUTAGE_MAX_BACKOFF", "500ms");
        invalidatorSettings.put("CHANGEFLOW_SUBSCRIPTION_COMMIT_INTERVAL", "100ms");
        invalidatorSettings.put("CHANGEFLOW_INVALIDATOR_REDIS_RECONNECT_MAX_DELAY", "200ms");

        admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
        // Reconnects quickly after an outage test restarts Redis (Lettuce's default waits up to 30 s).
        redisResources = ClientResources.builder().reconnectDelay(Delay.constant(Duration.ofMillis(50))).build();
        redisClient = RedisClient.create(redisResources, redis.uri().toString());
        redisConnection = redisClient.connect();
    }

    /** Replaces the rules file; {@code yaml} is used as is. */
    InvalidatorHarness rules(String yaml) throws IOException {
        Files.writeString(rulesFile, yaml);
        return this;
    }

    /** Sets a capture setting (by environment name or key) for captures started from now on. */
    InvalidatorHarness withCapture(String key, String value) {
        captureSettings.put(key, value);
        return this;
    }

    /** Sets an invalidator setting (by environment name or key) for the invalidators started from now on. */
    InvalidatorHarness with(String key, String value) {
        invalidatorSettings.put(key, value);
        return this;
    }

    Settings invalidatorSettings() {
        return Settings.of(Map.copyOf(invalidatorSettings));
    }

    String topic(String table) {
        return TopicRouter.of("(.*)", id + ".$1-changes").topicFor(table);
    }

    List<String> topics() {
        return List.of(topic("tasks"), topic("projects"));
    }

    String taskKey(UUID task) {
        return id + ":task:" + task;
    }

    String projectTasksKey(UUID project) {
        return id + ":project:" + project + ":tasks";
    }

    String projectKey(UUID project) {
        return id + ":project:" + project;
    }

    /**
     * Starts capture in this JVM and waits until its replication slot is active, so that every write from then on is
     * captured (writes before that are lost to streaming). Closed with the harness.
     */
    CaptureService startCapture() {
        CaptureService capture = CaptureService.create(Settings.of(Map.copyOf(captureSettings)),
                new SimpleMeterRegistry());
        closers.add(capture::close);
        capture.start();
        await("replication slot " + id + " active").atMost(Duration.ofSeconds(60)).until(() -> {
            try (Connection c = postgres.connect(database); var s = c.createStatement();
                    var rs = s.executeQuery("SELECT active FROM pg_replication_slots WHERE slot_name = '" + id + "'")) {
                return rs.next() && rs.getBoolean(1);
            }
        });
        return capture;
    }

    /** Creates and starts an invalidator with this harness's settings; closed with the harness. */
    InvalidatorService startInvalidator(SimpleMeterRegistry registry) {
        InvalidatorService invalidator = InvalidatorService.create(invalidatorSettings(), registry);
        closers.add(invalidator::close);
        invalidator.start();
        return invalidator;
    }

    InvalidatorService startInvalidator() {
        return startInvalidator(new SimpleMeterRegistry());
    }

    Connection sql() throws SQLException {
        return postgres.connect(database);
    }

    RedisCommands<String, String> redis() {
        return redisConnection.sync();
    }

    /** Caches every key of {@code keys} (value {@code cached}). */
    void seed(Collection<String> keys) {
        for (List<String> chunk : chunks(List.copyOf(new LinkedHashSet<>(keys)), 1000)) {
            redis().mset(chunk.stream().collect(Collectors.toMap(k -> k, k -> "cached")));
        }
    }

    /** The keys of {@code keys} that exist in Redis now. */
    Set<String> existing(Collection<String> keys) {
        Set<String> present = new LinkedHashSet<>();
        for (List<String> chunk : chunks(List.copyOf(keys), 1000)) {
            for (KeyValue<String, String> kv : redis().mget(chunk.toArray(String[]::new))) {
                if (kv.hasValue()) {
                    present.add(kv.getKey());
                }
            }
        }
        return present;
    }

    /** Waits until no key of {@code keys} exists. */
    void awaitGone(Collection<String> keys, Duration timeout) {
        await(keys.size() + " keys invalidated").atMost(timeout).pollInterval(Duration.ofMillis(50))
                .until(() -> existing(keys), Set::isEmpty);
    }

    ConsumerLag lag() throws ExecutionException, InterruptedException {
        return ConsumerLag.of(admin, group, topics());
    }

    /** Records on the dead-letter topics of this harness's change topics, counted from their end offsets. */
    long deadLetters() throws ExecutionException, InterruptedException {
        List<String> dlts = topics().stream().map(TopicRouter::deadLetterTopicFor).toList();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        admin.describeTopics(dlts).allTopicNames().get().values().forEach(d -> d.partitions()
                .forEach(p -> latest.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest())));
        return admin.listOffsets(latest).all().get().values().stream().mapToLong(r -> r.offset()).sum();
    }

    /** All partitions of this harness's change topics. */
    Set<TopicPartition> partitions() throws ExecutionException, InterruptedException {
        Set<TopicPartition> all = new LinkedHashSet<>();
        admin.describeTopics(topics()).allTopicNames().get().values().forEach(d -> d.partitions()
                .forEach(p -> all.add(new TopicPartition(d.name(), p.partition()))));
        return all;
    }

    static <T> List<List<T>> chunks(List<T> items, int size) {
        List<List<T>> chunks = new ArrayList<>();
        for (int i = 0; i < items.size(); i += size) {
            chunks.add(items.subList(i, Math.min(items.size(), i + size)));
        }
        return chunks;
    }

    @Override
    public void close() throws IOException {
        // Invalidators before capture (reverse start order), so no consumer waits on a stopped producer.
        for (int i = closers.size() - 1; i >= 0; i--) {
            closers.get(i).run();
        }
        redisConnection.close();
        redisClient.shutdown();
        redisResources.shutdown();
        admin.close();
        Files.deleteIfExists(rulesFile);
        try (Connection c = postgres.connect(database); var s = c.createStatement()) {
            s.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                    + "WHERE slot_name = '" + id + "' AND NOT active");
        } catch (SQLException e) {
            // The slot is per-test and the database is throwaway; a leftover only costs disk.
        }
    }
}
