package dev.changeflow.capture.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import dev.changeflow.router.topics.ProducerDefaults;
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
        // Reading must never create the offsets topic with a broker's defaults (not compacted).
        config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
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
     * Removes every offset of {@code engineName}: tombstones its live keys, in one transaction under the capture's
     * {@code transactionalId}. Taking that id first fences the capture's producers and aborts their open transaction,
     * so a capture that lost its lease cannot write offsets after these, and the offsets read are final.
     *
     * @return how many keys were cleared
     */
    public static int clear(String bootstrap, String topic, String engineName, String transactionalId) {
        return asCapture(bootstrap, transactionalId, producer -> {
            Map<ByteBuffer, byte[]> tombstones = new HashMap<>();
            read(bootstrap, topic, engineName).keySet().forEach(key -> tombstones.put(key, null));
            write(producer, topic, tombstones);
            return tombstones.size();
        });
    }

    /**
     * Moves every offset of {@code engineName} to {@code lsn} (its {@code lsn}; the last processed and commit
     * positions and their transaction removed), so that the next capture streams from there: used when a slot is
     * recreated without a snapshot, because the connector refuses to start from a position its new slot lacks.
     * Written like {@link #clear}, fencing the capture first.
     *
     * @return how many keys were moved (0 if the engine has no offsets; it then snapshots)
     */
    public static int moveTo(String bootstrap, String topic, String engineName, String transactionalId, long lsn) {
        return asCapture(bootstrap, transactionalId, producer -> {
            Map<ByteBuffer, byte[]> moved = new HashMap<>();
            read(bootstrap, topic, engineName).forEach((key, value) -> moved.put(key, movedValue(value, lsn)));
            write(producer, topic, moved);
            return moved.size();
        });
    }

    /** Runs {@code action} with a producer that took over the capture's transactional id (fencing the capture's). */
    private static int asCapture(String bootstrap, String transactionalId,
            ToIntFunction<KafkaProducer<byte[], byte[]>> action) {
        Map<String, Object> config = ProducerDefaults.durable(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                "changeflow-slot-tool");
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config)) {
            producer.initTransactions();
            return action.applyAsInt(producer);
        } catch (KafkaException e) {
            throw new IllegalStateException("Kafka refused to write capture offsets as " + transactionalId + ": " + e,
                    e);
        }
    }

    /** Writes {@code records} (a null value is a tombstone) in one transaction. */
    private static void write(KafkaProducer<byte[], byte[]> producer, String topic, Map<ByteBuffer, byte[]> records) {
        if (records.isEmpty()) {
            return;
        }
        producer.beginTransaction();
        records.forEach((key, value) -> producer.send(new ProducerRecord<>(topic, key.array(), value)));
        producer.commitTransaction();
    }

    /** An offset value moved to {@code lsn}. Pure; visible for tests. */
    static byte[] movedValue(byte[] value, long lsn) {
        try {
            com.fasterxml.jackson.databind.node.ObjectNode offset =
                    (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(value);
            // The position to stream from; without the last processed/commit positions (and their transaction),
            // the connector resumes at it instead of searching the stream for a position the new slot never had.
            offset.put("lsn", lsn);
            offset.remove(java.util.List.of("lsn_proc", "lsn_commit", "txId"));
            return JSON.writeValueAsBytes(offset);
        } catch (IOException | ClassCastException e) {
            throw new IllegalStateException("A capture offset is not the JSON object expected: " + e, e);
        }
    }

    /** Parses a Postgres LSN such as {@code 0/3B98B78}. */
    public static long parseLsn(String lsn) {
        int slash = lsn.indexOf('/');
        return (Long.parseLong(lsn.substring(0, slash), 16) << 32) | Long.parseLong(lsn.substring(slash + 1), 16);
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
