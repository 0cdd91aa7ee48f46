package dev.changeflow.capture.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Capture's source offsets in its Kafka offsets topic, as Kafka Connect's offset store keeps them: the key is the JSON
 * array {@code ["<engine name>", {partition}]} and the value the position. Clearing writes a tombstone for every live
 * key of one engine, which the offset store reads as "no offset": the next capture of that slot starts afresh.
 */
public final class CaptureOffsets {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    private CaptureOffsets() {
    }

    /**
     * The live offsets of {@code engineName}: key bytes to value bytes, as read to the end of the topic.
     *
     * @return empty if the topic does not exist or holds none
     */
    public static Map<ByteBuffer, byte[]> read(String bootstrap, String topic, String engineName) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        Map<ByteBuffer, byte[]> live = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config)) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, READ_TIMEOUT);
            if (infos == null || infos.isEmpty()) {
                return live;
            }
            List<TopicPartition> partitions = infos.stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, READ_TIMEOUT);
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Could not read offsets topic " + topic + " to its end within "
                            + READ_TIMEOUT.toSeconds() + " s");
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.key() == null || !ownedBy(r.key(), engineName)) {
                        continue;
                    }
                    if (r.value() == null) {
                        live.remove(ByteBuffer.wrap(r.key()));
                    } else {
                        live.put(ByteBuffer.wrap(r.key()), r.value());
                    }
                }
            }
        }
        return live;
    }

    /**
     * Removes every offset of {@code engineName}: tombstones its live keys, acknowledged by all in-sync replicas.
     *
     * @return how many keys were cleared
     */
    public static int clear(String bootstrap, String topic, String engineName) {
        Map<ByteBuffer, byte[]> live = read(bootstrap, topic, engineName);
        if (live.isEmpty()) {
            return 0;
        }
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config)) {
            for (ByteBuffer key : live.keySet()) {
                producer.send(new ProducerRecord<>(topic, key.array(), null)).get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while clearing capture offsets", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Kafka refused to clear capture offsets in " + topic + ": "
                    + e.getCause(), e.getCause());
        }
        return live.size();
    }

    /** Whether an offsets-topic key belongs to {@code engineName}. Pure; visible for tests. */
    static boolean ownedBy(byte[] key, String engineName) {
        try {
            JsonNode node = JSON.readTree(key);
            return node != null && node.isArray() && node.size() > 0 && engineName.equals(node.get(0).asText());
        } catch (IOException e) {
            return false;
        }
    }
}
