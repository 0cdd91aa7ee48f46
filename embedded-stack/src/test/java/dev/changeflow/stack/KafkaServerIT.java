package dev.changeflow.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
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

class KafkaServerIT {
    private static final int PARTITIONS = 12;
    private static final int RECORDS = 1_200;

    private final KafkaServer kafka = SharedServers.kafka();

    @Test
    void recordsProducedToATwelvePartitionTopicAreConsumedOnceByAConsumerGroup() throws Exception {
        String topic = "stack-it-" + UUID.randomUUID();
        String group = "stack-it-group-" + UUID.randomUUID();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
        }

        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true),
                new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>(topic, "key-" + i, "value-" + i));
            }
            producer.flush();
        }

        Map<String, String> received = new HashMap<>();
        Set<Integer> partitionsSeen = new HashSet<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            await("all records consumed by the group").atMost(Duration.ofSeconds(60)).until(() -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    assertThat(received.put(r.key(), r.value())).as("redelivered %s", r.key()).isNull();
                    partitionsSeen.add(r.partition());
                }
                return received.size() == RECORDS;
            });
            consumer.commitSync();
        }

        assertThat(received).containsEntry("key-0", "value-0").containsEntry("key-1199", "value-1199");
        assertThat(partitionsSeen).hasSize(PARTITIONS);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            assertThat(committed).hasSize(PARTITIONS);
            assertThat(committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum()).isEqualTo(RECORDS);
        }
    }

    @Test
    void topicsAreNotCreatedAutomatically() throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            String value = admin.describeConfigs(List.of(new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.BROKER, "0")))
                    .all().get().values().iterator().next().get("auto.create.topics.enable").value();
            assertThat(value).isEqualTo("false");
        }
    }

    @Test
    void anUnreachableBootstrapGivesOneLineNamingTheSetting() throws Exception {
        int closedPort = TestPorts.closedPort();
        Settings settings = Settings.of(Map.of(
                "CHANGEFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:" + closedPort,
                "CHANGEFLOW_STACK_CONNECT_TIMEOUT", "2s"));

        assertThatThrownBy(() -> KafkaServer.start(settings))
                .isInstanceOf(ConfigException.class)
                .hasMessage("CHANGEFLOW_KAFKA_BOOTSTRAP=127.0.0.1:" + closedPort + " (changeflow.kafka.bootstrap): "
                        + "no Kafka broker answered within 2 s; check the host:port list and that the brokers are up");
    }

    @Test
    void aMalformedBootstrapIsRejectedBeforeAnyConnection() {
        Settings settings = Settings.of(Map.of("CHANGEFLOW_KAFKA_BOOTSTRAP", "localhost"));

        assertThatThrownBy(() -> KafkaServer.start(settings))
                .isInstanceOf(ConfigException.class)
                .hasMessage("CHANGEFLOW_KAFKA_BOOTSTRAP=localhost (changeflow.kafka.bootstrap): invalid value; "
                        + "allowed: a comma-separated list of host:port");
    }
}
