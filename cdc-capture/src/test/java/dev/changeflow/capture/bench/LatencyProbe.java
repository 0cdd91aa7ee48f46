package dev.changeflow.capture.bench;

import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads the tasks change topic from its current end with {@code read_committed} (as Changeflow's consumers do), and
 * records, per event, the row's commit time (the event's {@code source.commitTs}, from pgoutput's commit timestamp,
 * microseconds), the broker's append time (the record timestamp: the change topics use
 * {@code message.timestamp.type=LogAppendTime}, milliseconds) and when this consumer received it (microseconds, once
 * per poll). In exactly-once mode a record is appended before its transaction commits and is received only after the
 * commit; at least once, it is received as soon as it is appended, so there the difference is this consumer's own
 * fetch round trip.
 */
final class LatencyProbe implements AutoCloseable {
    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread thread;
    private volatile boolean running = true;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    final AtomicLong received = new AtomicLong();
    final AtomicLong notAppendTime = new AtomicLong();
    private final List<long[]> samples = new ArrayList<>(); // {commitMicros, appendMillis, receivedMicros}

    LatencyProbe(String bootstrap, String topic) {
        consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100),
                new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position); // resolve the end now, before anything is written
        thread = new Thread(this::run, "bench-latency-probe");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            while (running) {
                var records = consumer.poll(Duration.ofMillis(100));
                long receivedMicros = nowMicros();
                for (ConsumerRecord<String, byte[]> r : records) {
                    if (r.timestampType() != TimestampType.LOG_APPEND_TIME) {
                        notAppendTime.incrementAndGet();
                    }
                    ChangeEvent event = ChangeEventCodec.decode(r.value());
                    Instant commit = event.source().commitTs();
                    long commitMicros = TimeUnit.SECONDS.toMicros(commit.getEpochSecond()) + commit.getNano() / 1000;
                    synchronized (samples) {
                        samples.add(new long[] {commitMicros, r.timestamp(), receivedMicros});
                    }
                    received.incrementAndGet();
                }
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        } finally {
            consumer.close();
        }
    }

    Throwable failure() {
        return failure.get();
    }

    private static long nowMicros() {
        Instant now = Instant.now();
        return TimeUnit.SECONDS.toMicros(now.getEpochSecond()) + now.getNano() / 1000;
    }

    /** Events received whose commit time is at or after {@code fromMillis}. */
    long receivedSince(long fromMillis) {
        synchronized (samples) {
            return samples.stream().filter(s -> s[0] >= fromMillis * 1000).count();
        }
    }

    /** Latencies in microseconds (append ms * 1000 - commit µs) of events committed within [fromMillis, toMillis). */
    long[] latenciesMicros(long fromMillis, long toMillis) {
        synchronized (samples) {
            return samples.stream().filter(s -> s[0] >= fromMillis * 1000 && s[0] < toMillis * 1000)
                    .mapToLong(s -> s[1] * 1000 - s[0]).sorted().toArray();
        }
    }

    /**
     * Latencies in microseconds (received by this {@code read_committed} consumer - commit) of events committed within
     * [fromMillis, toMillis).
     */
    long[] visibleLatenciesMicros(long fromMillis, long toMillis) {
        synchronized (samples) {
            return samples.stream().filter(s -> s[0] >= fromMillis * 1000 && s[0] < toMillis * 1000)
                    .mapToLong(s -> s[2] - s[0]).sorted().toArray();
        }
    }

    /** Nearest-rank percentile of sorted values. */
    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return -1;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    static double mean(long[] values) {
        return Arrays.stream(values).average().orElse(Double.NaN);
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(10_000);
    }
}
