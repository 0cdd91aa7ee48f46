package dev.changeflow.capture.internal;

import dev.changeflow.router.ChangeEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** Capture's meters. Thread-safe. */
public final class CaptureMetrics {
    public static final String EVENTS = "changeflow.capture.events";
    public static final String BEHIND_SOURCE = "changeflow.capture.behind.source";
    public static final String PUBLISH_LATENCY = "changeflow.capture.publish.latency";
    public static final String BATCH_SIZE = "changeflow.capture.batch.size";
    public static final String COMMIT_TO_PUBLISHED = "changeflow.capture.commit.to.published";

    private final MeterRegistry registry;
    private final Clock clock;
    private final Map<String, Counter> events = new ConcurrentHashMap<>();
    private final AtomicLong behindSourceMillis = new AtomicLong();
    private final Timer publishLatency;
    private final Timer commitToPublished;
    private final DistributionSummary batchSize;

    public CaptureMetrics(MeterRegistry registry, Clock clock) {
        this.registry = registry;
        this.clock = clock;
        registry.gauge(BEHIND_SOURCE + ".ms", behindSourceMillis);
        this.publishLatency = Timer.builder(PUBLISH_LATENCY)
                .description("Time from handing a batch to Kafka until every record in it is acknowledged")
                .publishPercentiles(0.5, 0.99)
                .register(registry);
        this.commitToPublished = Timer.builder(COMMIT_TO_PUBLISHED)
                .description("From a change's commit in Postgres to Kafka acknowledging its event (streamed changes,"
                        + " not snapshot reads)")
                .publishPercentiles(0.5, 0.95, 0.99)
                .publishPercentileHistogram()
                .register(registry);
        this.batchSize = DistributionSummary.builder(BATCH_SIZE)
                .description("Change events per published batch")
                .register(registry);
    }

    /** Counts an event published, by table and op. */
    void captured(ChangeEvent event) {
        events.computeIfAbsent(event.table() + "/" + event.op(), k -> Counter.builder(EVENTS)
                .description("Change events published to Kafka")
                .tag("table", event.table())
                .tag("op", event.op().name().toLowerCase(java.util.Locale.ROOT))
                .register(registry)).increment();
    }

    /** Records a batch of {@code events} (possibly empty) acknowledged by Kafka {@code nanos} after it was sent. */
    void published(List<ChangeEvent> events, long nanos) {
        batchSize.record(events.size());
        publishLatency.record(nanos, TimeUnit.NANOSECONDS);
        long now = clock.millis();
        for (ChangeEvent event : events) {
            if (!event.source().snapshot()) {
                commitToPublished.record(Math.max(0, now - event.source().commitTs().toEpochMilli()),
                        TimeUnit.MILLISECONDS);
            }
        }
        if (!events.isEmpty() && !events.get(events.size() - 1).source().snapshot()) {
            behindSourceMillis.set(Math.max(0, now - events.get(events.size() - 1).source().commitTs().toEpochMilli()));
        }
    }
}
