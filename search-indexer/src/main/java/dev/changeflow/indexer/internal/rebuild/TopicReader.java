package dev.changeflow.indexer.internal.rebuild;

import dev.changeflow.router.ChangeEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads ranges of topics as a {@code read_committed} consumer without a group (it commits nothing and moves no
 * group's offsets). Not thread-safe: one rebuild's thread uses it.
 */
final class TopicReader implements AutoCloseable {
    /** How long Kafka may not answer (or a range make no progress) before a read fails. */
    static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(30);

    /** Turns a record into its event; throws for a record that holds none (it is then skipped and counted). */
    @FunctionalInterface
    interface Decoder {
        ChangeEvent decode(ConsumerRecord<String, byte[]> record);
    }

    private final KafkaConsumer<String, byte[]> consumer;

    TopicReader(String bootstrap, int maxPollRecords) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // An offset below the log's start (compaction, retention) reads from the start.
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(1, maxPollRecords));
        config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) KAFKA_TIMEOUT.toMillis());
        config.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) KAFKA_TIMEOUT.toMillis());
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "changeflow-search-rebuild");
        this.consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * The last stable offset of every partition of {@code topics} (the end a {@code read_committed} reader sees).
     *
     * @throws IllegalStateException naming a topic that does not exist
     * @throws org.apache.kafka.common.errors.TimeoutException if Kafka does not answer in time
     */
    Map<TopicPartition, Long> endOffsets(List<String> topics) {
        return consumer.endOffsets(partitions(topics));
    }

    /** The first offset of every partition of {@code topics}. */
    Map<TopicPartition, Long> beginningOffsets(List<String> topics) {
        return consumer.beginningOffsets(partitions(topics));
    }

    private List<TopicPartition> partitions(List<String> topics) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : topics) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic);
            if (infos == null || infos.isEmpty()) {
                throw new IllegalStateException("topic " + topic + " does not exist");
            }
            infos.forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
        }
        return partitions;
    }

    /**
     * Reads every record from {@code from} (inclusive) to {@code to} (exclusive) per partition and hands the events to
     * {@code sink} in batches of at most {@code batchSize}, in offset order per partition. A partition missing from
     * {@code from} starts at {@code to} (nothing to read). Records that do not decode are skipped and counted in
     * {@code skipped}. {@code progress} is told, from time to time, how many offsets of the range are done in all.
     *
     * @throws IllegalStateException if no record arrives for {@link #KAFKA_TIMEOUT} while some are due
     * @throws java.util.concurrent.CancellationException once {@code cancelled} says so (checked between polls)
     */
    void read(Map<TopicPartition, Long> from, Map<TopicPartition, Long> to, int batchSize, Decoder decoder,
            Consumer<List<ChangeEvent>> sink, LongConsumer progress, LongConsumer skipped,
            BooleanSupplier cancelled) {
        Map<TopicPartition, Long> start = new HashMap<>();
        to.forEach((p, end) -> {
            long begin = from.getOrDefault(p, end);
            if (begin < end) {
                start.put(p, begin);
            }
        });
        if (start.isEmpty()) {
            return;
        }
        consumer.assign(start.keySet());
        start.forEach(consumer::seek);
        Set<TopicPartition> open = new HashSet<>(start.keySet());
        List<ChangeEvent> batch = new ArrayList<>(batchSize);
        long lastDone = 0;
        long lastProgress = System.nanoTime();
        try {
            while (!open.isEmpty()) {
                if (cancelled.getAsBoolean()) {
                    throw new java.util.concurrent.CancellationException("the rebuild was cancelled");
                }
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition p = new TopicPartition(record.topic(), record.partition());
                    if (record.offset() >= to.get(p)) {
                        continue;
                    }
                    try {
                        batch.add(decoder.decode(record));
                    } catch (RuntimeException e) {
                        skipped.accept(1);
                    }
                    if (batch.size() >= batchSize) {
                        sink.accept(List.copyOf(batch));
                        batch.clear();
                    }
                }
                // Positions move past transaction markers and aborted records too: they say when a range is done.
                long done = 0;
                Set<TopicPartition> finished = new HashSet<>();
                for (TopicPartition p : start.keySet()) {
                    long position = open.contains(p) ? consumer.position(p) : to.get(p);
                    done += Math.min(position, to.get(p)) - start.get(p);
                    if (open.contains(p) && position >= to.get(p)) {
                        finished.add(p);
                    }
                }
                if (!finished.isEmpty()) {
                    consumer.pause(finished);
                    open.removeAll(finished);
                }
                if (open.isEmpty() && !batch.isEmpty()) {
                    sink.accept(List.copyOf(batch));
                    batch.clear();
                }
                if (done != lastDone) {
                    progress.accept(done);
                    lastDone = done;
                    lastProgress = System.nanoTime();
                } else if (System.nanoTime() - lastProgress > KAFKA_TIMEOUT.toNanos()) {
                    throw new IllegalStateException("no record of " + open + " arrived for "
                            + KAFKA_TIMEOUT.toSeconds() + " s, although some are below the end offsets");
                }
            }
        } finally {
            consumer.assign(List.of());
        }
    }

    @Override
    public void close() {
        consumer.close();
    }
}
