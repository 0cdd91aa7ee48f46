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

    void fetched(int count) {
        int now = current.addAndGet(count);
        peak.accumulateAndGet(now, Math::max);
    }

    void finished(int count) {
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
            counter.fetched(records.count());
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
