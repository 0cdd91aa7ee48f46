package dev.changeflow.invalidator;

import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.CaptureService;
import dev.changeflow.capture.testing.CapturedDatabase;
import dev.changeflow.config.Settings;
import dev.changeflow.router.topics.ConsumerLag;
import dev.changeflow.stack.KafkaServer;
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
import org.apache.kafka.common.TopicPartition;

/**
 * One invalidator test's world: a {@link CapturedDatabase} (own database, capture, topics {@code <id>.*-changes}),
 * its own consumer group, and rules whose keys all start with {@code <id>:}, so no two tests share a key. A Redis
 * client seeds and reads keys.
 */
final class InvalidatorHarness implements AutoCloseable {
    final CapturedDatabase world;
    final RedisServer redis;
    final String id;
    final String group;
    final Admin admin;
    final KafkaServer kafka;
    private final Map<String, String> invalidatorSettings = new HashMap<>();
    private final ClientResources redisResources;
    private final RedisClient redisClient;
    private final StatefulRedisConnection<String, String> redisConnection;
    final Path rulesFile;

    InvalidatorHarness() throws SQLException, IOException {
        this(SharedServers.redis());
    }

    InvalidatorHarness(RedisServer redis) throws SQLException, IOException {
        this.redis = redis;
        world = new CapturedDatabase("i");
        // Every invalidator test writes its rows after capture started, and seeds keys it expects to survive: a first
        // snapshot reading those rows meanwhile would delete them with its read events (RedisOutageIT lost 19 keys so).
        world.withCapture("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data");
        id = world.id;
        group = id + "-invalidator";
        admin = world.admin;
        kafka = world.kafka;

        rulesFile = Files.createTempFile(id + "-rules", ".yaml");
        rules("""
                tables:
                  tasks:
                    - "%1$s:task:{id}"
                    - "%1$s:project:{project_id}:tasks"
                  projects:
                    - "%1$s:project:{id}"
                """.formatted(id));
        invalidatorSettings.putAll(world.consumerSettings());
        invalidatorSettings.put("CHANGEFLOW_REDIS_URL", redis.uri().toString());
        invalidatorSettings.put("CHANGEFLOW_INVALIDATOR_RULES_FILE", rulesFile.toString());
        invalidatorSettings.put("CHANGEFLOW_INVALIDATOR_GROUP", group);
        invalidatorSettings.put("CHANGEFLOW_INVALIDATOR_REDIS_RECONNECT_MAX_DELAY", "200ms");

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
        world.withCapture(key, value);
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
        return world.topic(table);
    }

    List<String> topics() {
        return world.topics();
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

    /** Starts capture and waits until its slot is active (see {@link CapturedDatabase#startCapture}). */
    CaptureService startCapture() {
        return world.startCapture();
    }

    /** Creates and starts an invalidator with this harness's settings; closed with the harness. */
    InvalidatorService startInvalidator(SimpleMeterRegistry registry) {
        return startInvalidator(registry, Map.of());
    }

    /**
     * Creates and starts an invalidator with this harness's settings and {@code overrides} (environment names or keys),
     * such as a group and rules of its own next to the invalidator of a shared pipeline; closed with the harness.
     */
    InvalidatorService startInvalidator(SimpleMeterRegistry registry, Map<String, String> overrides) {
        Map<String, String> settings = new HashMap<>(invalidatorSettings);
        settings.putAll(overrides);
        InvalidatorService invalidator = world.closeLater(InvalidatorService.create(Settings.of(settings), registry));
        invalidator.start();
        return invalidator;
    }

    InvalidatorService startInvalidator() {
        return startInvalidator(new SimpleMeterRegistry());
    }

    Connection sql() throws SQLException {
        return world.sql();
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
        return world.lag(group);
    }

    /** Records on the dead-letter topics of this harness's change topics, counted from their end offsets. */
    long deadLetters() throws ExecutionException, InterruptedException {
        return world.deadLetters();
    }

    /** All partitions of this harness's change topics. */
    Set<TopicPartition> partitions() throws ExecutionException, InterruptedException {
        return world.partitions();
    }

    static <T> List<List<T>> chunks(List<T> items, int size) {
        List<List<T>> chunks = new ArrayList<>();
        for (int i = 0; i < items.size(); i += size) {
            chunks.add(items.subList(i, Math.min(items.size(), i + size)));
        }
        return chunks;
    }

    @Override
    public void close() throws Exception {
        // Invalidators before capture (reverse start order), so no consumer waits on a stopped producer.
        world.close();
        redisConnection.close();
        redisClient.shutdown();
        redisResources.shutdown();
        Files.deleteIfExists(rulesFile);
    }
}
