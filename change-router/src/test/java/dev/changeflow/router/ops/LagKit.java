package dev.changeflow.router.ops;

import static org.awaitility.Awaitility.await;

import dev.changeflow.config.Settings;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import dev.changeflow.router.Op;
import dev.changeflow.router.Source;
import dev.changeflow.router.subscription.Subscription;
import dev.changeflow.router.subscription.SubscriptionOptions;
import dev.changeflow.stack.KafkaServer;
import dev.changeflow.stack.SharedServers;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import reactor.core.publisher.Mono;

/**
 * One lag or offsets test's world on the shared broker: its own topic and group, a producer of change events (with
 * chosen partitions and timestamps when a test needs them), and a real {@link Subscription} consumer of the group
 * that counts what it handles.
 */
final class LagKit implements AutoCloseable {
    final KafkaServer kafka = SharedServers.kafka();
    final String id = "l" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    final String topic = id + ".tasks-changes";
    final String group = id + "-group";
    final Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    /** Events handled by the subscriptions of this kit, all starts together. */
    final AtomicInteger handled = new AtomicInteger();
    private final KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ProducerConfig.ACKS_CONFIG, "all",
            ProducerConfig.LINGER_MS_CONFIG, 5),
            new StringSerializer(), new ByteArraySerializer());
    private final List<Subscription> subscriptions = new ArrayList<>();
    private final List<LagMonitor> monitors = new ArrayList<>();
    private int sent;

    LagKit(int partitions) throws ExecutionException, InterruptedException {
        createTopic(topic, partitions);
    }

    /** Creates {@code name} and waits until every partition has a leader. */
    void createTopic(String name, int partitions) throws ExecutionException, InterruptedException {
        admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
        await("leaders for " + name).atMost(Duration.ofSeconds(30)).until(() ->
                admin.describeTopics(List.of(name)).allTopicNames().get().get(name).partitions().stream()
                        .allMatch(p -> p.leader() != null && !p.isr().isEmpty()));
    }

    /** Sends {@code count} change events of distinct rows, spread over the partitions by key; waits for the acks. */
    void send(int count) {
        for (int i = 0; i < count; i++) {
            producer.send(new ProducerRecord<>(topic, null, key(sent), value(sent)));
            sent++;
        }
        producer.flush();
    }

    /** Sends one change event to {@code partition} with record timestamp {@code timestamp}; waits for the ack. */
    void send(int partition, Instant timestamp) {
        sendTo(topic, partition, timestamp);
    }

    void sendTo(String toTopic, int partition, Instant timestamp) {
        try {
            producer.send(new ProducerRecord<>(toTopic, partition, timestamp.toEpochMilli(), key(sent), value(sent)))
                    .get();
            sent++;
        } catch (ExecutionException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String key(int row) {
        return "tasks:task-" + row;
    }

    private static byte[] value(int row) {
        Map<String, Object> key = Map.of("id", "task-" + row);
        Map<String, Object> after = Map.of("id", "task-" + row, "title", "t" + row);
        ChangeEvent event = ChangeEvent.of(Op.CREATE, "tasks", key, null, after,
                new Source(row + 1L, row + 1L, Instant.now(), false));
        return ChangeEventCodec.encode(event);
    }

    /** Starts a member of the group that handles every event at once and commits every 100 ms; closed with the kit. */
    Subscription startConsumer() {
        Map<String, String> values = new HashMap<>(Map.of(
                "changeflow.subscription.commit-interval", "100ms",
                "changeflow.subscription.lag-interval", "200ms",
                "changeflow.subscription.retry-backoff", "20ms",
                "changeflow.subscription.retry-max-backoff", "100ms"));
        Subscription subscription = Subscription.builder(kafka.bootstrapServers(), group).topics(topic)
                .options(SubscriptionOptions.from(Settings.of(values)))
                .onEach(e -> Mono.fromRunnable(handled::incrementAndGet)).start();
        subscriptions.add(subscription);
        return subscription;
    }

    /** The group's committed offsets on the topic, by partition (absent: none). */
    Map<Integer, Long> committed() throws ExecutionException, InterruptedException {
        Map<Integer, Long> offsets = new HashMap<>();
        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().forEach((tp, o) -> {
            if (o != null && tp.topic().equals(topic)) {
                offsets.put(tp.partition(), o.offset());
            }
        });
        return offsets;
    }

    /** Commits {@code offsets} (partition, offset, partition, offset, ...) for the group, which must be empty. */
    void commit(long... offsets) throws ExecutionException, InterruptedException {
        Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
        for (int i = 0; i < offsets.length; i += 2) {
            commits.put(new TopicPartition(topic, (int) offsets[i]), new OffsetAndMetadata(offsets[i + 1]));
        }
        admin.alterConsumerGroupOffsets(group, commits).all().get();
    }

    /** Waits until the group has committed the end of every partition. */
    void awaitCaughtUp() {
        await("group " + group + " caught up").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> LagReport.read(admin, group).group(group)
                        .map(l -> l.partitions().stream().allMatch(p -> p.committed() == p.end())).orElse(false));
    }

    /** Closes {@code monitor} with the kit, should the test end before it closes it. */
    void closeLater(LagMonitor monitor) {
        monitors.add(monitor);
    }

    @Override
    public void close() {
        monitors.forEach(LagMonitor::close);
        subscriptions.forEach(Subscription::close);
        producer.close();
        admin.close();
    }
}
