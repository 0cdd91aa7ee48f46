package dev.changeflow.router.ops;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * One read of a whole topic, from the beginning of each partition up to the end offsets taken when the scan was
 * opened: records appended later are not seen. Reads with {@code read_committed}, without a consumer group (nothing
 * is committed). Not thread-safe; close it.
 */
final class DeadLetterScan implements AutoCloseable {
    /** A scan that makes no progress for this long fails, rather than wait for a broker forever. */
    static final Duration STALL_TIMEOUT = Duration.ofSeconds(60);

    private final String topic;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Map<TopicPartition, Long> starts;
    private final Map<TopicPartition, Long> ends;

    /** Opens a scan of {@code topic}, which must exist. */
    DeadLetterScan(Map<String, Object> clientProperties, String topic, String clientId) {
        this.topic = topic;
        Map<String, Object> config = new HashMap<>(clientProperties);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        this.consumer = new KafkaConsumer<>(config);
        try {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic)) {
                partitions.add(new TopicPartition(topic, p.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            // With read_committed these are the last stable offsets: nothing of a transaction still open is awaited.
            this.ends = Map.copyOf(consumer.endOffsets(partitions));
            this.starts = Map.copyOf(consumer.beginningOffsets(partitions));
        } catch (RuntimeException e) {
            consumer.close();
            throw e;
        }
    }

    /** The first offset of each partition when the scan was opened. */
    Map<TopicPartition, Long> starts() {
        return starts;
    }

    /** The end offset (exclusive) of each partition the scan reads up to. */
    Map<TopicPartition, Long> ends() {
        return ends;
    }

    /** How many offsets the scan covers: the sum over partitions of end minus start. */
    long size() {
        return ends.entrySet().stream().mapToLong(e -> Math.max(0, e.getValue() - starts.get(e.getKey()))).sum();
    }

    /**
     * Hands every record below the end offsets to {@code each}, in offset order within a partition. An exception
     * thrown by {@code each} stops the scan and propagates.
     *
     * @throws TimeoutException if the scan makes no progress for {@link #STALL_TIMEOUT}
     */
    void forEach(Consumer<ConsumerRecord<String, byte[]>> each) {
        Map<TopicPartition, Long> remaining = new HashMap<>();
        ends.forEach((tp, end) -> {
            if (end > starts.get(tp)) {
                remaining.put(tp, end);
            }
        });
        consumer.pause(ends.keySet().stream().filter(tp -> !remaining.containsKey(tp)).toList());
        long lastProgress = System.nanoTime();
        Map<TopicPartition, Long> lastPositions = new HashMap<>();
        while (!remaining.isEmpty()) {
            for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                Long end = remaining.get(new TopicPartition(record.topic(), record.partition()));
                if (end != null && record.offset() < end) {
                    each.accept(record);
                }
            }
            for (TopicPartition tp : List.copyOf(remaining.keySet())) {
                long position = consumer.position(tp);
                if (position >= remaining.get(tp)) {
                    remaining.remove(tp);
                    consumer.pause(List.of(tp));
                }
                if (!Long.valueOf(position).equals(lastPositions.put(tp, position))) {
                    lastProgress = System.nanoTime();
                }
            }
            if (System.nanoTime() - lastProgress > STALL_TIMEOUT.toNanos()) {
                throw new TimeoutException("Reading " + topic + " made no progress for " + STALL_TIMEOUT.toSeconds()
                        + " s; still to read: " + remaining.keySet());
            }
        }
    }

    @Override
    public void close() {
        consumer.close();
    }
}
