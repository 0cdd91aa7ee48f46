package dev.changeflow.router.ops;

import dev.changeflow.router.topics.KafkaReachability;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumer lag and dead letters as gauges, read from the broker, so they exist while the consumers are down (unlike
 * {@code changeflow.subscription.lag}, which only a running consumer exports):
 * <ul>
 *   <li>{@value #CONSUMER_LAG}{@code {group, topic}}: the {@link LagReport lag} of every consumer group on each topic
 *       it has committed offsets for, summed over the partitions. Alert when it stays above
 *       {@value #ALERT_THRESHOLD}.</li>
 *   <li>{@value #DLT_RECORDS}{@code {topic}}: records present on each topic whose name ends in {@code .dlt} (end
 *       minus start offset, summed over the partitions).</li>
 *   <li>{@value #LAST_READ_AGE}: seconds since the last successful read, so that gauges kept at their last values
 *       while Kafka cannot be read are never mistaken for live ones (alert when it exceeds a few intervals).</li>
 * </ul>
 *
 * <p>One daemon thread reads both every interval, the first time at once. A gauge whose group or topic is no longer
 * reported is removed. While Kafka cannot be read, the gauges keep their last values, one WARN is logged for the
 * outage (and one INFO when it ends), and the read is tried again the next interval; nothing is thrown out of the
 * thread. {@link #close()} stops the thread, closes the admin client and removes the gauges. Thread-safe.
 */
public final class LagMonitor implements AutoCloseable {
    /** The gauge of a group's lag on a topic. */
    public static final String CONSUMER_LAG = "changeflow.consumer.lag";
    /** The gauge of the records on a dead-letter topic. */
    public static final String DLT_RECORDS = "changeflow.dlt.records";
    /** The lag above which operators should be alerted, as in the {@code lag} command's default threshold. */
    public static final long ALERT_THRESHOLD = 1000;
    /** The gauge of the seconds since the lag was last read from Kafka. */
    public static final String LAST_READ_AGE = "changeflow.consumer.lag.read.age";

    private static final Logger LOG = LoggerFactory.getLogger(LagMonitor.class);
    private static final Duration MIN_KAFKA_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration MAX_KAFKA_TIMEOUT = Duration.ofSeconds(30);

    private final Admin admin;
    private final MeterRegistry registry;
    private final Duration interval;
    private final ScheduledExecutorService thread;
    private final Map<Tags, Held> lag = new HashMap<>();
    private final Map<Tags, Held> deadLetters = new HashMap<>();
    private int failures;
    private boolean closed;
    private volatile long lastRead = System.nanoTime();
    private final Gauge lastReadAge;

    private record Held(AtomicLong value, Gauge gauge) {
    }

    private LagMonitor(Admin admin, MeterRegistry registry, Duration interval) {
        this.admin = admin;
        this.registry = registry;
        this.interval = interval;
        this.lastReadAge = Gauge.builder(LAST_READ_AGE, this, m -> (System.nanoTime() - m.lastRead) / 1e9)
                .baseUnit("seconds").description("Seconds since consumer lag was last read from Kafka")
                .register(registry);
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "changeflow-lag-monitor");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts reading every {@code interval} on a daemon thread, the first time at once.
     *
     * @param kafkaClientProperties the cluster's {@code bootstrap.servers} and any security settings
     * @param registry where the gauges go
     * @param interval time between the end of one read and the start of the next; positive
     * @return the running monitor; close it to stop
     * @throws IllegalArgumentException if {@code interval} is not positive
     * @throws org.apache.kafka.common.KafkaException if the properties are not a valid admin client configuration
     */
    public static LagMonitor start(Map<String, Object> kafkaClientProperties, MeterRegistry registry,
            Duration interval) {
        Objects.requireNonNull(kafkaClientProperties, "kafkaClientProperties");
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(interval, "interval");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive, was " + interval);
        }
        Duration timeout = interval.compareTo(MIN_KAFKA_TIMEOUT) < 0 ? MIN_KAFKA_TIMEOUT
                : interval.compareTo(MAX_KAFKA_TIMEOUT) > 0 ? MAX_KAFKA_TIMEOUT : interval;
        Admin admin = Admin.create(KafkaReachability.adminConfig(kafkaClientProperties, timeout));
        LagMonitor monitor = new LagMonitor(admin, registry, interval);
        monitor.thread.scheduleWithFixedDelay(monitor::readSafely, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        return monitor;
    }

    private void readSafely() {
        try {
            LagReport report = LagReport.read(admin);
            Map<String, Long> dlt = LagDeadLetters.records(admin);
            synchronized (this) {
                if (closed) {
                    return;
                }
                Map<Tags, Long> lagValues = new HashMap<>();
                report.topics().forEach(t -> lagValues.put(Tags.of("group", t.group(), "topic", t.topic()), t.lag()));
                update(CONSUMER_LAG, "Records not yet committed by a consumer group on a topic, from the broker",
                        lag, lagValues);
                Map<Tags, Long> dltValues = new HashMap<>();
                dlt.forEach((topic, records) -> dltValues.put(Tags.of("topic", topic), records));
                update(DLT_RECORDS, "Records present on a dead-letter topic", deadLetters, dltValues);
            }
            lastRead = System.nanoTime();
            if (failures > 0) {
                LOG.info("Reading consumer lag from Kafka again, after {} failed attempts", failures);
                failures = 0;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // close() is stopping the thread
        } catch (Exception e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            if (failures++ == 0) {
                LOG.warn("Cannot read consumer lag from Kafka: {}; trying again every {}, the gauges {} and {} keep "
                        + "their last values until then", cause.toString(), interval.toMillis() < 1000
                                ? interval.toMillis() + " ms" : interval.toSeconds() + " s", CONSUMER_LAG, DLT_RECORDS);
            } else {
                LOG.debug("Still cannot read consumer lag from Kafka (attempt {}): {}", failures, cause.toString());
            }
        }
    }

    /** Sets the gauges of {@code values}, registering new ones and removing those not in {@code values}. */
    private void update(String name, String description, Map<Tags, Held> held, Map<Tags, Long> values) {
        for (Iterator<Map.Entry<Tags, Held>> it = held.entrySet().iterator(); it.hasNext();) {
            Map.Entry<Tags, Held> entry = it.next();
            if (!values.containsKey(entry.getKey())) {
                registry.remove(entry.getValue().gauge());
                it.remove();
            }
        }
        values.forEach((tags, value) -> held.computeIfAbsent(tags, t -> {
            AtomicLong holder = new AtomicLong();
            Gauge gauge = Gauge.builder(name, holder, AtomicLong::get).tags(t).description(description)
                    .register(registry);
            return new Held(holder, gauge);
        }).value().set(value));
    }

    /** Stops reading, waits for a read in progress to stop, closes the admin client and removes the gauges. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        thread.shutdownNow();
        try {
            if (!thread.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("The lag monitor's thread did not stop within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        admin.close(Duration.ofSeconds(5));
        synchronized (this) {
            for (Map<Tags, Held> held : List.of(lag, deadLetters)) {
                held.values().forEach(h -> registry.remove(h.gauge()));
                held.clear();
            }
            registry.remove(lastReadAge);
        }
    }
}
