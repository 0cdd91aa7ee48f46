package dev.changeflow.router.internal.subscription;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;

/**
 * The meters of one subscription, all tagged with its group: records by outcome, retries by kind, handler latency,
 * in-flight records and lag per partition. Thread-safe.
 */
final class SubscriptionMetrics implements AutoCloseable {
    static final String RECORDS = "changeflow.subscription.records";
    static final String RETRIES = "changeflow.subscription.retries";
    static final String HANDLER_LATENCY = "changeflow.subscription.handler.latency";
    static final String IN_FLIGHT = "changeflow.subscription.in.flight";
    static final String LAG = "changeflow.subscription.lag";
    static final String STALLED = "changeflow.subscription.stalled";
    static final String STALL_SECONDS = "changeflow.subscription.stall.seconds";
    static final String REOPENS = "changeflow.subscription.reopens";

    private final MeterRegistry registry;
    private final String group;
    private final Timer handlerLatency;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<TopicPartition, AtomicLong> lag = new ConcurrentHashMap<>();
    private final List<Meter> registered = new ArrayList<>();
    private final AtomicLong stallMillis = new AtomicLong();

    SubscriptionMetrics(MeterRegistry registry, String group, Supplier<Number> inFlight) {
        this.registry = registry;
        this.group = group;
        this.handlerLatency = Timer.builder(HANDLER_LATENCY).tag("group", group)
                .description("Time from calling a handler to its Mono completing, per call (batch or event)")
                .publishPercentileHistogram().register(registry);
        synchronized (registered) {
            registered.add(handlerLatency);
            registered.add(Gauge.builder(IN_FLIGHT, inFlight).tag("group", group)
                    .description("Records fetched and not yet finished").register(registry));
            registered.add(Gauge.builder(STALLED, stallMillis, m -> m.get() > 0 ? 1 : 0).tag("group", group)
                    .description("1 while a partition with records waiting has made no progress for longer than "
                            + "the stall limit, else 0").register(registry));
            registered.add(Gauge.builder(STALL_SECONDS, stallMillis, m -> m.get() / 1000.0).tag("group", group)
                    .description("How long the partition stalled longest has made no progress; 0 while none is "
                            + "stalled").baseUnit("seconds").register(registry));
        }
    }

    void processed(String topic, int count) {
        counter(RECORDS, topic, "outcome", "processed").increment(count);
    }

    void deadLettered(String topic) {
        counter(RECORDS, topic, "outcome", "dead_lettered").increment();
    }

    void skipped(String topic, int count) {
        counter(RECORDS, topic, "outcome", "skipped").increment(count);
    }

    void retried(String topic, boolean outage) {
        counter(RETRIES, topic, "kind", outage ? "outage" : "failure").increment();
    }

    /** The longest stall now, or zero when no partition is stalled. */
    void stall(Duration since) {
        stallMillis.set(since.toMillis());
    }

    /** A broken dependency was reopened ({@code true}) or could not be. */
    void reopened(boolean succeeded) {
        counters.computeIfAbsent(REOPENS + '|' + succeeded, k -> {
            Counter c = Counter.builder(REOPENS).tag("group", group).tag("outcome", succeeded ? "reopened" : "failed")
                    .description("Reopens of a resource broken for good (a closed IndexWriter, a closed client)")
                    .register(registry);
            synchronized (registered) {
                registered.add(c);
            }
            return c;
        }).increment();
    }

    void handlerCall(Duration took) {
        handlerLatency.record(took);
    }

    /** Sets the lag of a partition, registering its gauge on first use. */
    void lag(TopicPartition partition, long value) {
        lag.computeIfAbsent(partition, tp -> {
            AtomicLong holder = new AtomicLong();
            Gauge gauge = Gauge.builder(LAG, holder, AtomicLong::get).tag("group", group).tag("topic", tp.topic())
                    .tag("partition", Integer.toString(tp.partition()))
                    .description("Records after the last finished one, per partition held").register(registry);
            synchronized (registered) {
                registered.add(gauge);
            }
            return holder;
        }).set(value);
    }

    /** The lag last set for a partition; 0 if none was set (or it is no longer held). */
    long lagOf(TopicPartition partition) {
        AtomicLong value = lag.get(partition);
        return value == null ? 0 : value.get();
    }

    /** Forgets a partition's lag gauge (it is no longer held). */
    void dropLag(TopicPartition partition) {
        if (lag.remove(partition) != null) {
            registry.find(LAG).tag("group", group).tag("topic", partition.topic())
                    .tag("partition", Integer.toString(partition.partition())).meters().forEach(m -> {
                        registry.remove(m);
                        synchronized (registered) {
                            registered.remove(m);
                        }
                    });
        }
    }

    private Counter counter(String name, String topic, String tag, String value) {
        return counters.computeIfAbsent(name + '|' + topic + '|' + value, k -> {
            Counter c = Counter.builder(name).tag("group", group).tag("topic", topic).tag(tag, value)
                    .register(registry);
            synchronized (registered) {
                registered.add(c);
            }
            return c;
        });
    }

    /** Removes every meter of this subscription from the registry. */
    @Override
    public void close() {
        synchronized (registered) {
            registered.forEach(registry::remove);
            registered.clear();
        }
    }
}
