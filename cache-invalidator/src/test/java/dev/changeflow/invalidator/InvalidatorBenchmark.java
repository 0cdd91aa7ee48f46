package dev.changeflow.invalidator;

import static org.awaitility.Awaitility.await;

import dev.changeflow.invalidator.internal.InvalidatorMetrics;
import dev.changeflow.router.subscription.Subscription;
import dev.changeflow.router.subscription.SubscriptionOptions;
import dev.changeflow.config.Settings;
import dev.changeflow.stack.AppRows;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;

/**
 * Cache invalidation benchmark, on the embedded servers with capture in the same JVM (as the demo runs it):
 * <ol>
 *   <li><b>latency</b>: commit to key-invalidated, p50 and p99, while single-row updates commit at a steady rate
 *       (1,000/s). Measured by the invalidator itself: its {@code changeflow.invalidator.commit.to.invalidated} timer
 *       runs from the commit timestamp Postgres puts in the change to the completion of the UNLINK; this program
 *       only gives the timer 1 ms buckets and reads the counts of the measured window.</li>
 *   <li><b>throughput</b>: a backlog of updates is captured into Kafka while no invalidator runs; then an invalidator
 *       with a fresh group starts and the time until its lag is 0 gives the sustained invalidation rate.</li>
 *   <li><b>back-pressure</b>: a subscription whose handler takes 10 ms per event is put in front of that backlog;
 *       the live heap (after a full GC) and the in-flight records are sampled while it works.</li>
 * </ol>
 * Sizes: {@code bench.rate} (1000), {@code bench.latencySeconds} (30), {@code bench.warmupSeconds} (10),
 * {@code bench.backlog} (200000), {@code bench.backpressureSeconds} (20), {@code bench.tasks} (10000).
 */
public final class InvalidatorBenchmark {
    private static final double P99_TARGET_MS = 100;

    private final int rate = Integer.getInteger("bench.rate", 1000);
    private final int latencySeconds = Integer.getInteger("bench.latencySeconds", 30);
    private final int warmupSeconds = Integer.getInteger("bench.warmupSeconds", 10);
    private final int backlog = Integer.getInteger("bench.backlog", 200_000);
    private final int backpressureSeconds = Integer.getInteger("bench.backpressureSeconds", 20);
    private final int taskCount = Integer.getInteger("bench.tasks", 10_000);
    private final List<String> results = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        int status = 0;
        try {
            new InvalidatorBenchmark().run();
        } catch (Exception | AssertionError e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    private void run() throws Exception {
        try (InvalidatorHarness world = new InvalidatorHarness()) {
            world.withCapture("CHANGEFLOW_TOPICS_PARTITIONS", "tasks=48,projects=12");
            world.withCapture("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data");
            List<UUID> tasks = createRows(world);
            world.startCapture();
            say("capture streaming; %d tasks", tasks.size());

            latency(world, tasks);
            throughput(world, tasks);
            backPressure(world);
        }
        System.out.println();
        System.out.println("==== Invalidator benchmark " + ZonedDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE)
                + ", " + Runtime.getRuntime().availableProcessors() + " cores, Java " + Runtime.version() + " ====");
        results.forEach(System.out::println);
        System.out.println("====");
    }

    private List<UUID> createRows(InvalidatorHarness world) throws Exception {
        try (Connection c = world.sql()) {
            return AppRows.projectsWithTasks(c, 50, taskCount);
        }
    }

    /** Steady single-row updates at {@link #rate}; the invalidator's own timer gives commit to invalidated. */
    private void latency(InvalidatorHarness world, List<UUID> tasks) throws Exception {
        if (latencySeconds == 0) {
            return;
        }
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        registry.config().meterFilter(new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                if (!id.getName().equals(InvalidatorMetrics.COMMIT_TO_INVALIDATED)) {
                    return config;
                }
                double[] slos = new double[1000];
                for (int i = 0; i < slos.length; i++) {
                    slos[i] = TimeUnit.MILLISECONDS.toNanos(i + 1);
                }
                // One window for the whole run, so that counts only grow and a window's counts are a difference.
                return DistributionStatisticConfig.builder().serviceLevelObjectives(slos)
                        .expiry(Duration.ofDays(1)).bufferLength(1).build().merge(config);
            }
        });
        InvalidatorService invalidator = world.startInvalidator(registry);
        Timer timer = registry.get(InvalidatorMetrics.COMMIT_TO_INVALIDATED).timer();
        say("latency: %d s warm-up then %d s at %d updates/s", warmupSeconds, latencySeconds, rate);
        try (Connection c = world.sql();
                PreparedStatement update = c.prepareStatement("UPDATE app.tasks SET title = ? WHERE id = ?")) {
            c.setAutoCommit(true);
            long[] before = null;
            long total = (long) (warmupSeconds + latencySeconds) * rate;
            long start = System.nanoTime();
            long interval = 1_000_000_000L / rate;
            for (long i = 0; i < total; i++) {
                if (i == (long) warmupSeconds * rate) {
                    awaitIdle(world);
                    before = counts(timer);
                }
                long due = start + i * interval;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                update.setString(1, "t" + i);
                update.setObject(2, tasks.get((int) (i % tasks.size())));
                update.executeUpdate();
            }
            double achieved = (double) latencySeconds * rate
                    / ((System.nanoTime() - start) / 1e9 - warmupSeconds);
            awaitIdle(world);
            long[] window = minus(counts(timer), before);
            long n = window[window.length - 1];
            double p50 = percentile(window, 0.50);
            double p99 = percentile(window, 0.99);
            results.add(String.format(Locale.ROOT, "commit -> invalidated at %d updates/s (achieved %.0f/s), %d events: "
                    + "p50 %.0f ms, p99 %.0f ms (target p99 < %.0f ms: %s)", rate, achieved, n, p50, p99,
                    P99_TARGET_MS, p99 < P99_TARGET_MS ? "met" : "NOT met"));
        }
        invalidator.close();
    }

    /** A captured backlog, then a fresh group: events per second until its lag is 0. */
    private void throughput(InvalidatorHarness world, List<UUID> tasks) throws Exception {
        if (backlog == 0) {
            return;
        }
        long endBefore = endOffsets(world);
        say("throughput: writing %d updates with no invalidator running", backlog);
        world.world.writeTitleUpdates(tasks, backlog);
        await("backlog captured").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(200))
                .until(() -> endOffsets(world) - endBefore >= backlog);
        long pending = endOffsets(world);
        world.with("CHANGEFLOW_INVALIDATOR_GROUP", world.id + "-throughput");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        long start = System.nanoTime();
        InvalidatorService invalidator = world.startInvalidator(registry);
        await("backlog invalidated").atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> lag(world, world.id + "-throughput") == 0);
        double seconds = (System.nanoTime() - start) / 1e9;
        double keys = registry.get(InvalidatorMetrics.KEYS_REQUESTED).counter().count();
        results.add(String.format(Locale.ROOT, "sustained invalidation: %d events (whole topics, %d new) in %.1f s "
                + "= %.0f events/s, from a standing start (group creation and assignment included); "
                + "%.0f keys sent to UNLINK", pending, backlog, seconds, pending / seconds, keys));
        invalidator.close();
        world.with("CHANGEFLOW_INVALIDATOR_GROUP", world.group);
    }

    /** A handler slowed to 10 ms an event over the captured backlog: in-flight records and live heap. */
    private void backPressure(InvalidatorHarness world) throws Exception {
        if (backpressureSeconds == 0) {
            return;
        }
        Settings settings = world.invalidatorSettings();
        SubscriptionOptions options = SubscriptionOptions.from(settings);
        long liveBefore = liveHeap();
        AtomicInteger handled = new AtomicInteger();
        say("back-pressure: 10 ms per event over %d records for %d s", endOffsets(world), backpressureSeconds);
        long maxLive = 0;
        try (Subscription slow = Subscription.builder(world.kafka.bootstrapServers(), world.id + "-slow")
                .topics(world.topics()).options(options)
                .onEach(e -> Mono.delay(Duration.ofMillis(10)).doOnNext(x -> handled.incrementAndGet()).then())
                .start()) {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(backpressureSeconds);
            List<Long> samples = new ArrayList<>();
            while (System.nanoTime() < end) {
                TimeUnit.SECONDS.sleep(2);
                long live = liveHeap();
                samples.add(live);
                maxLive = Math.max(maxLive, live);
            }
            results.add(String.format(Locale.ROOT, "back-pressure (10 ms/event, %d records waiting, max-in-flight %d): "
                    + "handled %d in %d s, peak in-flight %d; live heap after full GC %.1f MB before, samples %s MB, "
                    + "max %.1f MB", endOffsets(world), options.maxInFlight(), handled.get(), backpressureSeconds,
                    slow.peakInFlight(), liveBefore / 1e6,
                    samples.stream().map(b -> String.format(Locale.ROOT, "%.1f", b / 1e6)).toList(), maxLive / 1e6));
        }
    }

    private static long liveHeap() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static void awaitIdle(InvalidatorHarness world) {
        await("invalidator caught up").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100))
                .until(() -> world.lag().total() == 0);
    }

    private static long lag(InvalidatorHarness world, String group) throws Exception {
        return dev.changeflow.router.topics.ConsumerLag.of(world.admin, group, world.topics()).total();
    }

    private static long endOffsets(InvalidatorHarness world) throws Exception {
        return world.world.endOffsets();
    }

    /** Cumulative counts per 1 ms bucket, and the total count last. */
    private static long[] counts(Timer timer) {
        CountAtBucket[] buckets = timer.takeSnapshot().histogramCounts();
        long[] counts = new long[buckets.length + 1];
        for (int i = 0; i < buckets.length; i++) {
            counts[i] = (long) buckets[i].count();
        }
        counts[buckets.length] = timer.count();
        return counts;
    }

    private static long[] minus(long[] after, long[] before) {
        long[] d = new long[after.length];
        for (int i = 0; i < after.length; i++) {
            d[i] = after[i] - (before == null ? 0 : before[i]);
        }
        return d;
    }

    /** The upper bound (ms) of the first 1 ms bucket holding the {@code q} quantile. */
    private static double percentile(long[] window, double q) {
        long total = window[window.length - 1];
        long rank = (long) Math.ceil(q * total);
        for (int i = 0; i < window.length - 1; i++) {
            if (window[i] >= rank) {
                return i + 1;
            }
        }
        return Double.POSITIVE_INFINITY;
    }

    private static void say(String format, Object... args) {
        System.out.printf(Locale.ROOT, "[bench] " + format + "%n", args);
    }
}
