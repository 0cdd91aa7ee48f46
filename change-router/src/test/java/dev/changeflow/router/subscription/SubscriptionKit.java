package dev.changeflow.router.subscription;

import dev.changeflow.config.Settings;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import dev.changeflow.router.Op;
import dev.changeflow.router.Source;
import dev.changeflow.router.topics.ConsumerLag;
import dev.changeflow.stack.KafkaServer;
import dev.changeflow.stack.SharedServers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * One subscription test's world on the shared broker: its own topic (and so dead-letter topic) and group, a
 * producer of change events, and readers for the dead-letter topic and the group's lag.
 */
final class SubscriptionKit implements AutoCloseable {
    final KafkaServer kafka = SharedServers.kafka();
    final String id = "s" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    final String topic = id + ".tasks-changes";
    final String group = id + "-group";
    final Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    private final KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ProducerConfig.ACKS_CONFIG, "all",
            ProducerConfig.LINGER_MS_CONFIG, 10,
            ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024,
            ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"),
            new StringSerializer(), new ByteArraySerializer());
    private final List<Subscription> subscriptions = new ArrayList<>();

    SubscriptionKit(int partitions) throws ExecutionException, InterruptedException {
        admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        // A topic just created can briefly answer NOT_LEADER_OR_FOLLOWER; produce only once every partition has one.
        org.awaitility.Awaitility.await("leaders for " + topic).atMost(Duration.ofSeconds(30)).until(() ->
                admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().stream()
                        .allMatch(p -> p.leader() != null && !p.isr().isEmpty()));
    }

    /** Options with test-friendly backoffs; {@code overrides} are setting keys and values. */
    static SubscriptionOptions options(String... overrides) {
        Map<String, String> values = new HashMap<>(Map.of(
                "changeflow.subscription.retry-backoff", "20ms",
                "changeflow.subscription.retry-max-backoff", "100ms",
                "changeflow.subscription.outage-backoff", "20ms",
                "changeflow.subscription.outage-max-backoff", "100ms",
                "changeflow.subscription.commit-interval", "100ms",
                "changeflow.subscription.lag-interval", "200ms"));
        for (int i = 0; i < overrides.length; i += 2) {
            values.put(overrides[i], overrides[i + 1]);
        }
        return SubscriptionOptions.from(Settings.of(values));
    }

    Subscription.Builder builder() {
        return Subscription.builder(kafka.bootstrapServers(), group).topics(topic);
    }

    /** Starts {@code builder} and closes the subscription with the kit. */
    Subscription start(Subscription.Builder builder) {
        Subscription subscription = builder.start();
        subscriptions.add(subscription);
        return subscription;
    }

    /** The update event of task {@code row} carrying {@code version} as its LSN and in its title. */
    static ChangeEvent event(int row, long version) {
        Map<String, Object> key = Map.of("id", "task-" + row);
        Map<String, Object> after = Map.of("id", "task-" + row, "title", "v" + version);
        return ChangeEvent.of(Op.UPDATE, "tasks", key, after, after,
                new Source(version, version, Instant.now(), false));
    }

    /** Sends {@code event} keyed as capture would, and waits for the broker's acknowledgement. */
    void send(ChangeEvent event) {
        sendRaw(event.kafkaKey(), ChangeEventCodec.encode(event));
    }

    void sendRaw(String key, byte[] value) {
        try {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
        } catch (InterruptedException | ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends {@code count} events without waiting for each; flushed at the end. */
    void sendMany(List<ChangeEvent> events) {
        for (ChangeEvent e : events) {
            producer.send(new ProducerRecord<>(topic, e.kafkaKey(), ChangeEventCodec.encode(e)));
        }
        producer.flush();
    }

    /** Sends {@code count} copies of one value under {@code keys} keys, fast: for backlogs. */
    void sendBacklog(int count, int keys) {
        byte[] value = ChangeEventCodec.encode(event(0, 1));
        for (int i = 0; i < count; i++) {
            producer.send(new ProducerRecord<>(topic, "tasks:task-" + (i % keys), value));
        }
        producer.flush();
    }

    ConsumerLag lag() throws ExecutionException, InterruptedException {
        return ConsumerLag.of(admin, group, List.of(topic));
    }

    /** Every record on the dead-letter topic, read from the beginning until {@code expected} have been seen. */
    List<ConsumerRecord<String, byte[]>> deadLetters(int expected, Duration timeout) {
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, id + "-dlt-reader-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic + ".dlt"));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (records.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            // One more poll: anything beyond what was expected shows up too.
            consumer.poll(Duration.ofMillis(500)).forEach(records::add);
        }
        return records;
    }

    static String header(ConsumerRecord<?, ?> record, String name) {
        var h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        subscriptions.forEach(Subscription::close);
        producer.close();
        admin.close();
    }
}
