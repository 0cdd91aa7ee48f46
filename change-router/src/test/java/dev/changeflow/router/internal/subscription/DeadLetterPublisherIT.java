package dev.changeflow.router.internal.subscription;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changeflow.router.subscription.DeadLetterHeaders;
import dev.changeflow.stack.KafkaServer;
import dev.changeflow.stack.SharedServers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/** The dead-letter publisher replaces a producer broken for good instead of stopping the subscription. */
class DeadLetterPublisherIT {
    private static final KafkaServer KAFKA = SharedServers.kafka();

    @Test
    void aClosedProducerIsReplacedAndTheDeadLetterStillArrives() throws Exception {
        String topic = "d" + UUID.randomUUID().toString().replace("-", "").substring(0, 10) + ".tasks-changes";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", KAFKA.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic + ".dlt", 1, (short) 1))).all().get();
        }
        try (DeadLetterPublisher publisher = new DeadLetterPublisher(
                Map.of("bootstrap.servers", KAFKA.bootstrapServers()), "dlt-test-group")) {
            publisher.breakProducerForTests();

            publisher.publish(new ConsumerRecord<>(topic, 0, 7, "tasks:7", "{}".getBytes(StandardCharsets.UTF_8)),
                    DeadLetterHeaders.REASON_HANDLER_FAILED, new IllegalArgumentException("bad row"), 4)
                    .block(Duration.ofSeconds(30));
        }

        List<ConsumerRecord<String, byte[]>> dead = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers()),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(topic + ".dlt", 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (dead.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(dead::add);
            }
        }
        assertThat(dead).singleElement().satisfies(record -> {
            assertThat(record.key()).isEqualTo("tasks:7");
            assertThat(new String(record.headers().lastHeader(DeadLetterHeaders.ERROR_MESSAGE).value(),
                    StandardCharsets.UTF_8)).isEqualTo("bad row");
        });
    }
}
