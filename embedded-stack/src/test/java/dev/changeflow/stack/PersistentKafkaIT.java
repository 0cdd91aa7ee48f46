package dev.changeflow.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class PersistentKafkaIT {
    private static final Logger LOG = LoggerFactory.getLogger(PersistentKafkaIT.class);
    private static final String TOPIC = "notes";
    private static final String GROUP = "note-readers";
    private static final int PARTITIONS = 3;

    @Test
    void aTopicItsRecordsAndAGroupsCommittedOffsetSurviveACloseAndRestartOnTheSameDirectory(@TempDir Path dir)
            throws Exception {
        int port = TestPorts.closedPort();
        long t0 = System.nanoTime();
        KafkaServer first = KafkaServer.startPersistent(dir, port);
        try {
            LOG.info("First start (format included) took {} ms", millisSince(t0));
            assertThat(first.bootstrapServers()).isEqualTo("127.0.0.1:" + port);
            assertThat(first.isExternal()).isFalse();
            try (Admin admin = admin(first)) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
            }
            produce(first, "before", 10);
            try (KafkaConsumer<String, String> consumer = consumer(first)) {
                assertThat(readAll(consumer, 10)).allMatch(v -> v.startsWith("before-"));
                consumer.commitSync();
            }
            produce(first, "after", 5);
        } finally {
            long t1 = System.nanoTime();
            first.close();
            LOG.info("Close took {} ms", millisSince(t1));
        }

        long t2 = System.nanoTime();
        KafkaServer second = KafkaServer.startPersistent(dir, port);
        try {
            LOG.info("Restart on a formatted directory took {} ms", millisSince(t2));
            try (Admin admin = admin(second)) {
                TopicDescription topic = admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC);
                assertThat(topic.partitions()).hasSize(PARTITIONS);
                Map<TopicPartition, OffsetAndMetadata> committed =
                        admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata().get();
                assertThat(committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum()).isEqualTo(10);
            }
            try (KafkaConsumer<String, String> consumer = consumer(second)) {
                assertThat(readAll(consumer, 5)).as("the group resumes after its committed offsets")
                        .containsExactlyInAnyOrder("after-0", "after-1", "after-2", "after-3", "after-4");
            }
        } finally {
            second.close();
            second.close(); // a no-op
        }
    }

    @Test
    void aTakenPortFailsWithAMessageNamingIt(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> KafkaServer.startPersistent(dir, port))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Port " + port + " on 127.0.0.1 is already in use")
                    .hasMessageContaining("Kafka");
        }
    }

    private static Admin admin(KafkaServer kafka) {
        return Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    }

    private static void produce(KafkaServer kafka, String prefix, int count) {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
            IntStream.range(0, count).forEach(i -> producer.send(new ProducerRecord<>(TOPIC, "k" + i, prefix + "-" + i)));
            producer.flush();
        }
    }

    /** A member of {@link #GROUP} on every partition, starting from the group's committed offsets. */
    private static KafkaConsumer<String, String> consumer(KafkaServer kafka) {
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, GROUP,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                new StringDeserializer(), new StringDeserializer());
        // Assigned rather than subscribed: offsets are committed for the group without waiting for a rebalance.
        consumer.assign(IntStream.range(0, PARTITIONS).mapToObj(p -> new TopicPartition(TOPIC, p)).toList());
        return consumer;
    }

    private static List<String> readAll(KafkaConsumer<String, String> consumer, int expected) {
        List<String> values = new ArrayList<>();
        await("records read").atMost(Duration.ofSeconds(30)).until(() -> {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                values.add(r.value());
            }
            return values.size() >= expected;
        });
        // Anything more than expected would be a redelivery: poll once more to catch it.
        consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
        return values;
    }

    private static long millisSince(long nanoTime) {
        return (System.nanoTime() - nanoTime) / 1_000_000;
    }
}
