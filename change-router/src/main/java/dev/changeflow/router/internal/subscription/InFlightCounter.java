package dev.changeflow.router.internal.subscription;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Counts records from the moment the Kafka consumer returns them from {@code poll} until the pipeline finishes or
 * drops them, so the in-flight bound covers the client library's own buffers too. The consumer creates its
 * {@link Interceptor} by class name; it finds its counter through {@link #ID_CONFIG}. Thread-safe.
 */
final class InFlightCounter implements AutoCloseable {

    /** Consumer property naming the counter an {@link Interceptor} adds to. */
    static final String ID_CONFIG = "changeflow.in-flight-counter.id";

    private static final Map<String, InFlightCounter> COUNTERS = new ConcurrentHashMap<>();

    private final String id = UUID.randomUUID().toString();
    private final AtomicInteger current = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();
    private final Map<TopicPartition, AtomicInteger> perPartition = new ConcurrentHashMap<>();
    private volatile Runnable onFetched = () -> { };

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

    /** Runs {@code action} on the polling thread after each poll that returned records. */
    void onFetched(Runnable action) {
        this.onFetched = action;
    }

    void fetched(ConsumerRecords<?, ?> records) {
        for (TopicPartition tp : records.partitions()) {
            perPartition.computeIfAbsent(tp, k -> new AtomicInteger()).addAndGet(records.records(tp).size());
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
        }

        @Override
        public void close() {
        }
    }
}
