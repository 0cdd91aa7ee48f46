package dev.changeflow.router.internal.subscription;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Counts records from the moment the Kafka consumer returns them from {@code poll} until the pipeline finishes or
 * drops them, so the in-flight bound covers the client library's own buffers too, and notes the highest offset
 * {@code poll} has returned per partition. The consumer creates its {@link Interceptor} by class name; it finds its
 * counter through {@link #ID_CONFIG}. The interceptor also passes on every commit Kafka confirmed. Thread-safe.
 */
final class InFlightCounter implements AutoCloseable {

    /** Consumer property naming the counter an {@link Interceptor} adds to. */
    static final String ID_CONFIG = "changeflow.in-flight-counter.id";

    private static final Map<String, InFlightCounter> COUNTERS = new ConcurrentHashMap<>();

    private final String id = UUID.randomUUID().toString();
    private final AtomicInteger current = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();
    private final Map<TopicPartition, AtomicInteger> perPartition = new ConcurrentHashMap<>();
    private final Map<TopicPartition, AtomicLong> highestPolled = new ConcurrentHashMap<>();
    private volatile Runnable onFetched = () -> { };
    private volatile Consumer<Map<TopicPartition, OffsetAndMetadata>> onCommitted = offsets -> { };

    InFlightCounter() {
        COUNTERS.put(id, this);
    }

    /** The value for {@link #ID_CONFIG}. */
    String id() {
        return id;
    }

    int current() {
        return current.get();
    }

    int peak() {
        return peak.get();
    }

    /** Records of {@code partition} fetched and not yet finished, now. */
    int current(TopicPartition partition) {
        AtomicInteger count = perPartition.get(partition);
        return count == null ? 0 : count.get();
    }

    /**
     * The highest offset of {@code partition} that {@code poll} has returned since this counter was made, whether
     * its record was finished or dropped since; -1 if none.
     */
    long highestPolled(TopicPartition partition) {
        AtomicLong offset = highestPolled.get(partition);
        return offset == null ? -1 : offset.get();
    }

    /** Runs {@code action} on the polling thread after each poll that returned records. */
    void onFetched(Runnable action) {
        this.onFetched = action;
    }

    /** Runs {@code action} on the polling thread with the offsets of each commit Kafka confirmed, whoever made it. */
    void onCommitted(Consumer<Map<TopicPartition, OffsetAndMetadata>> action) {
        this.onCommitted = action;
    }

    void fetched(ConsumerRecords<?, ?> records) {
        for (TopicPartition tp : records.partitions()) {
            List<? extends ConsumerRecord<?, ?>> ofPartition = records.records(tp);
            perPartition.computeIfAbsent(tp, k -> new AtomicInteger()).addAndGet(ofPartition.size());
            long last = ofPartition.get(ofPartition.size() - 1).offset();
            highestPolled.computeIfAbsent(tp, k -> new AtomicLong(-1)).accumulateAndGet(last, Math::max);
        }
        int now = current.addAndGet(records.count());
        peak.accumulateAndGet(now, Math::max);
        onFetched.run();
    }

    void finished(TopicPartition partition, int count) {
        AtomicInteger forPartition = perPartition.get(partition);
        if (forPartition != null) {
            forPartition.addAndGet(-count);
        }
        current.addAndGet(-count);
    }

    @Override
    public void close() {
        COUNTERS.remove(id);
    }

    /** Adds every polled batch to the counter named by {@link #ID_CONFIG}. Public: Kafka instantiates it. */
    public static final class Interceptor implements ConsumerInterceptor<String, byte[]> {
        private InFlightCounter counter;

        @Override
        public void configure(Map<String, ?> configs) {
            counter = COUNTERS.get(String.valueOf(configs.get(ID_CONFIG)));
            if (counter == null) {
                throw new IllegalStateException("No in-flight counter " + configs.get(ID_CONFIG));
            }
        }

        @Override
        public ConsumerRecords<String, byte[]> onConsume(ConsumerRecords<String, byte[]> records) {
            counter.fetched(records);
            return records;
        }

        @Override
        public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {
            counter.onCommitted.accept(offsets);
        }

        @Override
        public void close() {
        }
    }
}
