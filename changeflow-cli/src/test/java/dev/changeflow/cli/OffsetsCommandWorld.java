package dev.changeflow.cli;

import static org.awaitility.Awaitility.await;

import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import dev.changeflow.router.Op;
import dev.changeflow.router.Source;
import dev.changeflow.router.subscription.Subscription;
import dev.changeflow.stack.KafkaServer;
import dev.changeflow.stack.SharedServers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import reactor.core.publisher.Mono;

/**
 * One operator-command test's world on the shared broker: its own topic and consumer group, a {@code --config} file
 * pointing at the broker, a producer of change events, and the group's consumers. Commands run in this JVM, their
 * output captured.
 */
final class OffsetsCommandWorld implements AutoCloseable {
    final KafkaServer kafka = SharedServers.kafka();
    final String id = "o" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    final String topic = id + ".tasks-changes";
    final String group = id + "-group";
    final Path config;
    final Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    private final KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
            new StringSerializer(), new ByteArraySerializer());
    private final List<Subscription> consumers = new ArrayList<>();
    private int sent;


    OffsetsCommandWorld(Path directory, int partitions) throws IOException, ExecutionException, InterruptedException {
        config = directory.resolve(id + ".properties");
        Files.writeString(config, "changeflow.kafka.bootstrap=" + kafka.bootstrapServers() + "\n");
        admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        // Just created, the topic can be unknown to the broker's metadata for a moment: ask again.
        await("leaders for " + topic).atMost(Duration.ofSeconds(30))
                .ignoreExceptionsInstanceOf(ExecutionException.class).until(() ->
                admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().stream()
                        .allMatch(p -> p.leader() != null && !p.isr().isEmpty()));
    }

    /** Sends {@code count} change events to {@code partition}, each of a row of its own; waits for the acks. */
    void send(int partition, int count) throws ExecutionException, InterruptedException {
        for (int i = 0; i < count; i++) {
            Map<String, Object> key = Map.of("id", "task-" + sent);
            ChangeEvent event = ChangeEvent.of(Op.CREATE, "tasks", key, null, Map.of("id", "task-" + sent),
                    new Source(sent + 1L, sent + 1L, Instant.now(), false));
            producer.send(new ProducerRecord<>(topic, partition, event.kafkaKey(), ChangeEventCodec.encode(event)))
                    .get();
            sent++;
        }
    }

    /** Commits offsets for the group (which must be empty): partition, offset, partition, offset, ... */
    void commit(long... offsets) throws ExecutionException, InterruptedException {
        Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
        for (int i = 0; i < offsets.length; i += 2) {
            commits.put(new TopicPartition(topic, (int) offsets[i]), new OffsetAndMetadata(offsets[i + 1]));
        }
        admin.alterConsumerGroupOffsets(group, commits).all().get();
    }

    /** The group's committed offsets on the topic, by partition. */
    Map<Integer, Long> committed() throws ExecutionException, InterruptedException {
        Map<Integer, Long> offsets = new HashMap<>();
        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().forEach((tp, o) -> {
            if (o != null && tp.topic().equals(topic)) {
                offsets.put(tp.partition(), o.offset());
            }
        });
        return offsets;
    }

    /** Starts a member of the group that handles every event at once; waits until it holds every partition. */
    Subscription startConsumer() {
        Subscription consumer = Subscription.builder(kafka.bootstrapServers(), group).topics(topic)
                .onEach(e -> Mono.empty()).start();
        consumers.add(consumer);
        await("the consumer holds the partitions").atMost(Duration.ofSeconds(30))
                .until(() -> !consumer.assignment().isEmpty());
        return consumer;
    }

    @Override
    public void close() {
        consumers.forEach(Subscription::close);
        producer.close();
        admin.close();
    }
}
