package dev.changeflow.capture.bench;

import dev.changeflow.capture.CaptureService;
import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.capture.internal.CaptureMetrics;
import dev.changeflow.config.Settings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Capture benchmark: throughput of the real capture path ({@code CaptureService}: Debezium engine, KafkaBatchPublisher,
 * producer with acks=all, idempotence and lz4) in both delivery modes, exactly once (one Kafka transaction per batch
 * with its offsets) and at least once (reactor-kafka, offsets flushed by Debezium), next to Debezium's engine with a
 * no-op consumer, all three on the same WAL in every round; and commit-to-Kafka latency at a steady commit rate in both
 * modes. Runs against the embedded Postgres and Kafka of {@code SharedServers} (or external ones given by
 * {@code CHANGEFLOW_POSTGRES_URL} / {@code CHANGEFLOW_KAFKA_BOOTSTRAP}). See docs/benchmarks.md.
 *
 * <p>Sizes are system properties: {@code bench.burst} (200000), {@code bench.rounds} (3), {@code bench.warmup}
 * (400000), {@code bench.txSize} (1000), {@code bench.latencySeconds} (30), {@code bench.latencyWarmupSeconds} (5),
 * {@code bench.rate} (1000 commits/s). A burst or latency duration of 0 skips that part. Any
 * {@code changeflow.capture.*} or {@code changeflow.topics.*} system property overrides that capture setting for every
 * path, except {@code changeflow.capture.delivery}, which each path sets itself.
 */
public final class CaptureBenchmark {
    private static final double THROUGHPUT_TARGET_RATIO = 0.8;
    private static final double LATENCY_TARGET_P99_MS = 20.0;
    /** The target: exactly-once delivery costs less than this share of at-least-once throughput. */
    private static final double EXACTLY_ONCE_COST_TARGET = 0.15;
    /**
     * How long the change topics' stable offsets must stay put, once they have grown by the burst, before the
     * committed records are counted (see {@link ChangeTopicWatch}): longer than one transaction, so counting does not
     * compete with capture's last batches.
     */
    private static final long QUIET_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** A start slower than this (engine start to the first batch) is flagged in the summary. */
    private static final double SLOW_START_SECONDS = 5.0;

    private final int burst = Integer.getInteger("bench.burst", 200_000);
    // The capture path is still being JIT-compiled after 100k-300k changes (measured: its first 200k round after a
    // 100k warm-up ran ~25% slower than the next ones, with the JIT compiler busy most of the round).
    private final int warmup = Integer.getInteger("bench.warmup", 400_000);
    private final int rounds = Integer.getInteger("bench.rounds", 3);
    private final int txSize = Integer.getInteger("bench.txSize", 1000);
    private final int latencySeconds = Integer.getInteger("bench.latencySeconds", 30);
    private final int latencyWarmupSeconds = Integer.getInteger("bench.latencyWarmupSeconds", 5);
    private final int rate = Integer.getInteger("bench.rate", 1000);
    private final List<String> results = new ArrayList<>();
    /** Whether other programs disturbed a measured part (the warm-up does not count). */
    private boolean disturbed;
    private BenchWorld world;
    private Settings noopSettings;
    private CapturePath exactlyOnce;
    private CapturePath atLeastOnce;

    private CaptureBenchmark() {
    }

    public static void main(String[] args) {
        int status = 0;
        try {
            new CaptureBenchmark().run();
        } catch (Throwable t) {
            System.out.flush();
            System.err.println("Benchmark failed: " + t);
            t.printStackTrace();
            status = 1;
        }
        System.out.flush();
        silenceShutdownNoise();
        // Debezium and Kafka leave non-daemon threads behind; SharedServers' shutdown hook stops the servers.
        System.exit(status);
    }

    /** Clients left open by Debezium log connection failures while the broker stops at exit; they mean nothing. */
    private static void silenceShutdownNoise() {
        for (String name : List.of("org.apache.kafka", "kafka", "io.debezium")) {
            if (org.slf4j.LoggerFactory.getLogger(name) instanceof ch.qos.logback.classic.Logger logger) {
                logger.setLevel(ch.qos.logback.classic.Level.OFF);
            }
        }
    }

    /** One capture path: a delivery mode, with its own slot, publication, offsets topic and change topics. */
    record CapturePath(String path, CaptureSettings.Delivery delivery, String label, Settings settings) {
    }

    /** One round: the three paths over one burst; the capture paths ran in the order given by {@code eosFirst}. */
    record Round(PathResult noop, PathResult eos, PathResult alos, boolean eosFirst) {
        double eosCost() {
            return 1 - eos.rate() / alos.rate();
        }

        String order() {
            return eosFirst ? "no-op, exactly-once, at-least-once" : "no-op, at-least-once, exactly-once";
        }
    }

    /** The latency part of one delivery mode. */
    record LatencyResult(CapturePath path, long[] append, long[] visible, String detail) {
    }

    /** The result of one path over one burst. */
    record PathResult(String path, long events, long startNanos, long firstNanos, long firstCount, long doneNanos,
            String detail, String cpu) {
        double rate() {
            return events / ((doneNanos - startNanos) / 1e9);
        }

        double streamingRate() {
            return (events - firstCount) / ((doneNanos - firstNanos) / 1e9);
        }

        double seconds() {
            return (doneNanos - startNanos) / 1e9;
        }

        /** From engine start to the first events handled (no-op) or visible (capture). */
        double firstSeconds() {
            return (firstNanos - startNanos) / 1e9;
        }
    }

    private void run() throws Exception {
        String started = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        log("starting embedded servers and a migrated database");
        world = new BenchWorld(200, 5000);
        try (var c = world.sql(); var st = c.createStatement(); var rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            CpuProfile.usePostgresOf(rs.getLong(1)); // read while the backend is alive
        }
        // The no-op engine keeps its offsets with Debezium's own store, as capture does at least once: the store of
        // the exactly-once mode only reads offsets that the transactional writer wrote, and a no-op consumer writes
        // none. The two modes' Debezium properties differ in nothing else.
        noopSettings = world.settings("noop", CaptureSettings.Delivery.AT_LEAST_ONCE);
        exactlyOnce = new CapturePath("eos", CaptureSettings.Delivery.EXACTLY_ONCE, "exactly-once",
                world.settings("eos", CaptureSettings.Delivery.EXACTLY_ONCE));
        atLeastOnce = new CapturePath("alos", CaptureSettings.Delivery.AT_LEAST_ONCE, "at-least-once",
                world.settings("alos", CaptureSettings.Delivery.AT_LEAST_ONCE));

        log("creating the three logical slots (no-op engine, capture exactly-once, capture at-least-once) with "
                + "snapshot mode no_data");
        NoopEngine.createOffsetsTopic(noopSettings);
        try (NoopEngine engine = new NoopEngine(noopSettings, Long.MAX_VALUE, Long.MAX_VALUE)) {
            engine.start();
            world.awaitSlot("noop", true, Duration.ofSeconds(60));
        }
        world.awaitSlot("noop", false, Duration.ofSeconds(60));
        for (CapturePath path : List.of(exactlyOnce, atLeastOnce)) {
            try (CaptureService service = CaptureService.create(path.settings(), new SimpleMeterRegistry())) {
                service.start();
                world.awaitSlot(path.path(), true, Duration.ofSeconds(60));
                // The slot turns active before the engine's task has finished starting, and the engine refuses to
                // stop (IllegalStateException out of CaptureService.close) while a task is starting.
                Thread.sleep(3000);
            }
            world.awaitSlot(path.path(), false, Duration.ofSeconds(60));
        }

        BurstWriter writer = new BurstWriter(world, txSize);
        List<Round> measured = new ArrayList<>();
        if (warmup > 0 && burst > 0) {
            round("warm-up", 0, writer, warmup);
        }
        for (int i = 1; burst > 0 && i <= rounds; i++) {
            measured.add(round("round " + i, i, writer, burst));
        }
        List<LatencyResult> latencies = new ArrayList<>();
        if (latencySeconds > 0) {
            // The second mode's slot has meanwhile kept the first run's changes: that run's commits are its backlog.
            long backlog = 0;
            for (CapturePath path : List.of(exactlyOnce, atLeastOnce)) {
                Object[] out = latency(path, backlog);
                latencies.add((LatencyResult) out[0]);
                backlog = (Long) out[1];
            }
        }
        printResults(started, measured, latencies);
    }

    /**
     * Writes a burst, then runs the no-op engine and capture in both modes over it. The order of the two capture modes
     * alternates with {@code index}: exactly-once first in odd rounds, at-least-once first in even ones (the warm-up
     * is round 0).
     */
    private Round round(String label, int index, BurstWriter writer, int changes) throws Exception {
        log(label + ": writing " + changes + " changes in transactions of " + txSize + " (nothing streaming)");
        BurstWriter.Burst b = writer.write(changes, label);
        log(label + ": wrote " + b + "; WAL retained by the capture slots: " + world.slotLag("eos")
                + " (exactly-once), " + world.slotLag("alos") + " (at-least-once)");
        PathResult noop = runNoop(b);
        log(label + ": no-op engine " + fmt(noop) + "; CPU: " + noop.cpu());
        boolean eosFirst = index % 2 == 1;
        PathResult eos = null;
        PathResult alos = null;
        for (CapturePath path : eosFirst ? List.of(exactlyOnce, atLeastOnce) : List.of(atLeastOnce, exactlyOnce)) {
            PathResult r = runCapture(b, path);
            log(label + ": capture " + path.label() + " -> Kafka " + fmt(r) + "; CPU: " + r.cpu());
            if (path == exactlyOnce) {
                eos = r;
            } else {
                alos = r;
            }
        }
        Round round = new Round(noop, eos, alos, eosFirst);
        log(String.format(Locale.ROOT, "%s (order %s): ratio exactly-once/no-op %.2f (start->done), %.2f (streaming); "
                + "at-least-once/no-op %.2f, %.2f; exactly-once cost %.1f %% (1 - exactly-once / at-least-once)",
                label, round.order(), eos.rate() / noop.rate(), eos.streamingRate() / noop.streamingRate(),
                alos.rate() / noop.rate(), alos.streamingRate() / noop.streamingRate(), 100 * round.eosCost()));
        if (!label.equals("warm-up")
                && (isDisturbed(noop.cpu()) || isDisturbed(eos.cpu()) || isDisturbed(alos.cpu()))) {
            disturbed = true;
        }
        results.add(label + " burst: " + b);
        results.add(label + " order: " + round.order());
        results.add(label + " no-op:         " + fmt(noop));
        results.add("    CPU: " + noop.cpu());
        results.add(label + " exactly-once:  " + fmt(eos));
        results.add("    CPU: " + eos.cpu());
        results.add(label + " at-least-once: " + fmt(alos));
        results.add("    CPU: " + alos.cpu());
        return round;
    }

    private PathResult runNoop(BurstWriter.Burst b) throws Exception {
        CpuProfile cpu = CpuProfile.take();
        long start = System.nanoTime();
        NoopEngine engine = new NoopEngine(noopSettings, b.startLsn(), b.changes());
        NoopEngine.Counting counter = engine.consumer();
        try {
            engine.start();
            long deadline = start + timeoutNanos(b.changes());
            while (!counter.await(200, TimeUnit.MILLISECONDS)) {
                if (engine.failure() != null) {
                    throw new IllegalStateException("no-op engine failed", engine.failure());
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no-op engine processed " + counter.counted + " of "
                            + b.changes() + " events before the timeout");
                }
            }
            String usage = cpu.until(CpuProfile.take(), 8);
            settleOffsets();
            long batches = counter.batches;
            String detail = String.format(Locale.ROOT, "batches %d, mean %.0f records/batch; events before the "
                    + "burst re-delivered: %d", batches, counter.records / (double) Math.max(1, batches),
                    counter.older);
            return new PathResult("no-op", b.changes(), start, counter.firstNanos, counter.firstCount,
                    counter.doneNanos, detail, usage);
        } finally {
            engine.close();
            world.awaitSlot("noop", false, Duration.ofSeconds(60));
        }
    }

    /**
     * Times capture in {@code path}'s mode from start until every change of the burst is a committed record of the
     * change topics, visible to {@code read_committed} readers (see {@link ChangeTopicWatch}: the topics' end offsets
     * cannot tell, since in exactly-once mode each transaction also appends a control marker to every partition it
     * wrote). The {@code changeflow.capture.events} counter is not used for timing: the publisher counts a batch when
     * it settles it, and it settles the newest batch only when the next one arrives, at the latest with the next
     * heartbeat. Then waits for that settle and an offset flush, so the next start resumes after this burst, and
     * counts the committed data records the run appended (more than the burst would be duplicates).
     */
    private PathResult runCapture(BurstWriter.Burst b, CapturePath path) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Settings settings = path.settings();
        CaptureService service = null;
        CaptureVariant variant = null;
        try (ChangeTopicWatch watch = world.watch(path.path())) {
            String usage = null;
            CpuProfile cpu = CpuProfile.take();
            long start = System.nanoTime();
            try {
                if (CaptureVariant.requested()) {
                    variant = new CaptureVariant(settings, registry);
                    variant.start();
                } else {
                    service = CaptureService.create(settings, registry);
                    service.start();
                }
                long deadline = start + timeoutNanos(b.changes());
                int doneIndex;
                while (true) {
                    long grown = watch.poll();
                    if (grown >= b.changes()) {
                        if (usage == null) {
                            // The CPU of the run: in exactly-once mode it ends a few transactions early.
                            usage = cpu.until(CpuProfile.take(), 8);
                        }
                        if (watch.quietNanos() >= QUIET_NANOS) {
                            watch.countCommitted(false);
                            doneIndex = watch.firstSnapshotWith(b.changes());
                            if (doneIndex >= 0) {
                                break;
                            }
                        }
                    }
                    checkRunning(service, variant);
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("capture " + path.label() + ": the change topics' stable "
                                + "offsets grew by " + grown + " and " + watch.counted() + " committed records were "
                                + "counted, of " + b.changes() + " events, before the timeout");
                    }
                    Thread.sleep(5);
                }
                long done = watch.snapshotNanos(doneIndex);
                int firstIndex = watch.firstSnapshotWith(1);
                long first = watch.snapshotNanos(firstIndex);
                long firstCount = watch.recordsAt(firstIndex);
                long settleStart = System.nanoTime();
                long settleDeadline = settleStart + settings.get(CaptureSettings.HEARTBEAT_INTERVAL).toNanos()
                        + TimeUnit.SECONDS.toNanos(30);
                while (published(registry) < b.changes() && System.nanoTime() < settleDeadline) {
                    checkRunning(service, variant);
                    Thread.sleep(20);
                }
                double settleSeconds = (System.nanoTime() - settleStart) / 1e9;
                settleOffsets();
                if (service != null) {
                    service.close();
                } else {
                    variant.close();
                }
                world.awaitSlot(path.path(), false, Duration.ofSeconds(60));
                long appended = watch.countCommitted(true);
                long endGrowth = watch.endOffsetGrowth();
                DistributionSummary batches = registry.find(CaptureMetrics.BATCH_SIZE).summary();
                Timer publish = registry.find(CaptureMetrics.PUBLISH_LATENCY).timer();
                String detail = (variant == null ? "" : variant.description + "; ") + (batches == null
                        || publish == null ? "" : String.format(Locale.ROOT, "batches %d, mean %.0f events/batch; "
                        + "%s per batch (handed to Kafka -> durable) mean %.1f ms, %s; ", batches.count(),
                        batches.mean(), CaptureMetrics.PUBLISH_LATENCY, publish.mean(TimeUnit.MILLISECONDS),
                        percentiles(publish))) + String.format(Locale.ROOT, "%s reached the burst %.1f s after the "
                        + "last record became visible; records appended to the change topics: %d committed data "
                        + "records (expected %d)%s; end offsets grew by %d (records, transaction markers and aborted "
                        + "records)", CaptureMetrics.EVENTS, settleSeconds, appended, b.changes(),
                        appended == b.changes() ? "" : " !! " + (appended > b.changes() ? "DUPLICATES" : "MISSING"),
                        endGrowth);
                return new PathResult(path.label(), b.changes(), start, first, firstCount, done, detail, usage);
            } finally {
                if (service != null) {
                    service.close();
                }
                if (variant != null) {
                    variant.close();
                }
                world.awaitSlot(path.path(), false, Duration.ofSeconds(60));
            }
        }
    }

    private static void checkRunning(CaptureService service, CaptureVariant variant) {
        if (service != null && service.state() == CaptureService.State.FAILED) {
            service.whenTerminated().join();
            throw new IllegalStateException("capture failed");
        }
        if (variant != null && variant.failure() != null) {
            throw new IllegalStateException("capture variant failed", variant.failure());
        }
    }

    /** Lets at least one offset flush happen so the next start resumes after this burst. */
    private void settleOffsets() throws InterruptedException {
        Thread.sleep(noopSettings.get(CaptureSettings.OFFSET_FLUSH_INTERVAL).toMillis() + 1000);
    }

    private static long timeoutNanos(long events) {
        return TimeUnit.SECONDS.toNanos(120 + events / 1000);
    }

    private static long published(MeterRegistry registry) {
        long sum = 0;
        for (Counter c : registry.find(CaptureMetrics.EVENTS).counters()) {
            sum += (long) c.count();
        }
        return sum;
    }

    private static String percentiles(Timer timer) {
        StringBuilder sb = new StringBuilder();
        for (ValueAtPercentile v : timer.takeSnapshot().percentileValues()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "p%.0f %.1f ms",
                    v.percentile() * 100, v.value(TimeUnit.MILLISECONDS)));
        }
        return sb.toString();
    }

    /**
     * The latency part of one mode: capture streams while one writer commits single-row changes at a steady rate.
     *
     * @param backlog changes this mode's slot holds from before (the other mode's latency run), which capture
     *     publishes before the clock starts
     * @return the result and the number of changes committed from this run's start (the next mode's backlog)
     */
    private Object[] latency(CapturePath path, long backlog) throws Exception {
        String label = "latency " + path.label();
        log(label + ": capture streaming, " + rate + " single-row commits/s for " + latencyWarmupSeconds
                + " s warm-up + " + latencySeconds + " s measured");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (LatencyProbe probe = new LatencyProbe(world.kafka.bootstrapServers(), world.topic(path.path(), "tasks"));
                CaptureService service = CaptureService.create(path.settings(), registry);
                SteadyWriter writer = new SteadyWriter(world)) {
            service.start();
            world.awaitSlot(path.path(), true, Duration.ofSeconds(60));
            // One more change, committed now, shows when capture streams: the slot turns active before Debezium has
            // found its resume position (and it may then wait 10 s to reconnect), and a backlog comes first.
            try (var c = world.sql(); var update = c.prepareStatement(
                    "UPDATE app.tasks SET updated_at = now() WHERE id = ?")) {
                update.setObject(1, world.seedTasks.get(0));
                update.executeUpdate();
            }
            long before = backlog + 1;
            log(label + ": waiting for capture to publish " + (backlog > 0 ? "the slot's backlog of " + backlog
                    + " changes and " : "") + "one change committed after its start");
            long readyDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (probe.received.get() < before) {
                if (probe.failure() != null) {
                    throw new IllegalStateException("latency consumer failed", probe.failure());
                }
                if (service.state() == CaptureService.State.FAILED) {
                    throw new IllegalStateException("capture failed during the latency run");
                }
                if (System.nanoTime() > readyDeadline) {
                    throw new IllegalStateException("capture published " + probe.received.get() + " of the "
                            + before + " changes committed before the writer started, before the timeout");
                }
                Thread.sleep(20);
            }
            Thread.sleep(1000); // let the engine settle into streaming before the clock starts
            long begin = System.currentTimeMillis();
            long measureFrom = begin + latencyWarmupSeconds * 1000L;
            long measureTo = measureFrom + latencySeconds * 1000L;
            writer.measureWindow(measureFrom, measureTo);
            CpuProfile cpu = null;
            writer.start(rate);
            while (System.currentTimeMillis() < measureTo) {
                if (cpu == null && System.currentTimeMillis() >= measureFrom) {
                    cpu = CpuProfile.take();
                }
                if (service.state() == CaptureService.State.FAILED) {
                    throw new IllegalStateException("capture failed during the latency run");
                }
                Thread.sleep(20);
            }
            String usage = cpu == null ? "" : cpu.until(CpuProfile.take(), 8);
            writer.stop();
            if (writer.failure() != null) {
                throw new IllegalStateException("writer failed " + writer.errors.get() + " times",
                        writer.failure());
            }
            long total = writer.commits.get();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (probe.receivedSince(begin) < total && System.nanoTime() < deadline) {
                if (probe.failure() != null) {
                    throw new IllegalStateException("latency consumer failed", probe.failure());
                }
                Thread.sleep(20);
            }
            long received = probe.receivedSince(begin);
            long[] append = probe.latenciesMicros(measureFrom, measureTo);
            long[] visible = probe.visibleLatenciesMicros(measureFrom, measureTo);
            Timer publish = registry.get(CaptureMetrics.PUBLISH_LATENCY).timer();
            DistributionSummary batches = registry.get(CaptureMetrics.BATCH_SIZE).summary();
            String detail = String.format(Locale.ROOT, "commits: %d in the %d s window (%.0f/s achieved), %d in all "
                    + "(%d inserts, %d updates, %d errors); events received on the tasks topic: %d of %d, %d in "
                    + "the window, %d without LogAppendTime (and %d committed before the writer started: the slot's "
                    + "backlog and one readiness change, expected %d); capture batches: %d, mean %.1f events/batch, handed to Kafka -> "
                    + "durable per batch mean %.1f ms (%s); CPU: %s",
                    writer.measuredCommits.get(), latencySeconds,
                    writer.measuredCommits.get() / (double) latencySeconds,
                    total, writer.inserts.get(), writer.updates.get(), writer.errors.get(), received,
                    total, append.length, probe.notAppendTime.get(), probe.received.get() - received, before,
                    batches.count(), batches.mean(), publish.mean(TimeUnit.MILLISECONDS), percentiles(publish),
                    usage);
            disturbed |= isDisturbed(usage);
            log(label + ": " + detail);
            return new Object[] {new LatencyResult(path, append, visible, detail), total + 1};
        }
    }

    private void printResults(String started, List<Round> measured, List<LatencyResult> latencies)
            throws Exception {
        Settings settings = exactlyOnce.settings();
        List<String> out = new ArrayList<>();
        out.add("================ Changeflow capture benchmark ================");
        out.add("started:       " + started);
        out.add("machine:       " + Runtime.getRuntime().availableProcessors() + " cores (" + cpuModel() + "), "
                + (Runtime.getRuntime().maxMemory() >> 20) + " MB max heap, " + System.getProperty("os.name") + " "
                + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        out.add("java:          " + System.getProperty("java.vm.name") + " "
                + System.getProperty("java.runtime.version")
                + ", args " + ManagementFactory.getRuntimeMXBean().getInputArguments());
        out.add("code:          " + gitDescription());
        out.add("servers:       " + world.postgres + " (PostgreSQL " + world.query("SHOW server_version")
                + ", fsync=" + world.query("SHOW fsync") + ", synchronous_commit="
                + world.query("SHOW synchronous_commit") + " in the benchmark database, "
                + world.serverSetting("synchronous_commit") + " server default, wal_writer_delay="
                + world.query("SHOW wal_writer_delay") + "); " + world.kafka + " (Kafka "
                + org.apache.kafka.common.utils.AppInfoParser.getVersion() + ", in this JVM); Debezium "
                + io.debezium.connector.postgresql.Module.version() + " in this JVM");
        out.add("capture:       " + BenchWorld.describe(world.commonSettings()) + "; defaults otherwise: poll-interval "
                + settings.get(CaptureSettings.POLL_INTERVAL).toMillis() + " ms, max-batch-size "
                + settings.get(CaptureSettings.MAX_BATCH_SIZE) + ", max-queue-size "
                + settings.get(CaptureSettings.MAX_QUEUE_SIZE) + ", producer linger "
                + settings.get(CaptureSettings.LINGER).toMillis() + " ms, batch "
                + settings.get(CaptureSettings.PRODUCER_BATCH_BYTES) / 1024 + " KB, offset flush "
                + settings.get(CaptureSettings.OFFSET_FLUSH_INTERVAL).toMillis() + " ms, heartbeat "
                + settings.get(CaptureSettings.HEARTBEAT_INTERVAL).toSeconds() + " s; producer acks=all, "
                + "idempotent, lz4 (CaptureService)");
        out.add("paths:         each with its own slot, publication, offsets topic and change topics; exactly-once: "
                + "delivery=exactly_once (one Kafka transaction per batch with its offsets); at-least-once: "
                + "delivery=at_least_once (reactor-kafka, offsets flushed by Debezium); no-op engine: at_least_once's "
                + "Debezium properties (Debezium's own offset store)");
        out.add("workload:      warm-up " + warmup + " + " + rounds + " x " + burst + " changes, transactions of "
                + txSize
                + " (79% task INSERT, 20% task UPDATE, 1% project UPDATE), written before each engine starts; "
                + "latency, per mode: " + rate + " single-row commits/s (alternating task INSERT / UPDATE, "
                + "autocommit), " + latencyWarmupSeconds + " s warm-up + " + latencySeconds + " s measured");
        out.add("");
        out.addAll(results);
        out.add("");
        if (!measured.isEmpty()) {
            out.add(String.format(Locale.ROOT, "THROUGHPUT  (%d rounds of %d changes each after a %d-change warm-up; "
                    + "events/s from engine start to the last event handled (no-op) or visible to read_committed "
                    + "readers (capture))", measured.size(), burst, warmup));
            if (CaptureVariant.requested()) {
                out.add("  !! the capture rows below are an EXPERIMENT variant (bench.variant.*), not CaptureService");
            }
            List<Double> noops = new ArrayList<>();
            List<Double> eos = new ArrayList<>();
            List<Double> alos = new ArrayList<>();
            List<Double> eosRatios = new ArrayList<>();
            List<Double> alosRatios = new ArrayList<>();
            List<Double> costs = new ArrayList<>();
            for (int i = 0; i < measured.size(); i++) {
                Round r = measured.get(i);
                noops.add(r.noop().rate());
                eos.add(r.eos().rate());
                alos.add(r.alos().rate());
                eosRatios.add(r.eos().rate() / r.noop().rate());
                alosRatios.add(r.alos().rate() / r.noop().rate());
                costs.add(r.eosCost());
                out.add(String.format(Locale.ROOT, "  round %d (%s first): no-op engine %6.0f events/s (%.2f s), "
                        + "exactly-once %6.0f events/s (%.2f s), at-least-once %6.0f events/s (%.2f s); ratios to "
                        + "no-op %.2f and %.2f; exactly-once cost %.1f %%", i + 1,
                        r.eosFirst() ? "exactly-once" : "at-least-once", r.noop().rate(), r.noop().seconds(),
                        r.eos().rate(), r.eos().seconds(), r.alos().rate(), r.alos().seconds(),
                        eosRatios.get(i), alosRatios.get(i), 100 * costs.get(i)));
                for (PathResult p : List.of(r.noop(), r.eos(), r.alos())) {
                    if (p.firstSeconds() > SLOW_START_SECONDS) {
                        out.add(String.format(Locale.ROOT, "    !! %s: first batch only %.1f s after the start (normally "
                                + "about 1 s; Debezium waits 10 s when the slot is still held by its own previous "
                                + "stream, see 'Failed to start replication stream' in the log): this round's %s rate is "
                                + "not representative", p.path(), p.firstSeconds(), p.path()));
                    }
                }
            }
            // The headline compares each path's typical rate (its median over the rounds); the rounds' own ratios
            // are shown for their spread.
            double eosRatio = median(eos) / median(noops);
            double alosRatio = median(alos) / median(noops);
            double cost = 1 - median(eos) / median(alos);
            out.add(String.format(Locale.ROOT, "  no-op engine:             %8.0f events/s  median (min %.0f, max %.0f)",
                    median(noops), min(noops), max(noops)));
            out.add(String.format(Locale.ROOT, "  capture exactly-once:     %8.0f events/s  median (min %.0f, max %.0f)",
                    median(eos), min(eos), max(eos)));
            out.add(String.format(Locale.ROOT, "  capture at-least-once:    %8.0f events/s  median (min %.0f, max %.0f)",
                    median(alos), min(alos), max(alos)));
            out.add(ratioLine("ratio exactly-once:", eosRatio, "exactly-once", eosRatios));
            out.add(ratioLine("ratio at-least-once:", alosRatio, "at-least-once", alosRatios));
            out.add(String.format(Locale.ROOT, "  exactly-once cost:        %7.1f %%  1 - exactly-once median / "
                    + "at-least-once median (rounds' own: median %.1f %%, min %.1f %%, max %.1f %%); target < %.0f %%: "
                    + "%s", 100 * cost, 100 * median(costs), 100 * min(costs), 100 * max(costs),
                    100 * EXACTLY_ONCE_COST_TARGET, cost < EXACTLY_ONCE_COST_TARGET ? "MET" : "NOT MET"));
            // Where a difference comes from: starting (transactions initialized, offsets read) or streaming.
            List<Double> eosFirst = measured.stream().map(r -> r.eos().firstSeconds()).toList();
            List<Double> alosFirst = measured.stream().map(r -> r.alos().firstSeconds()).toList();
            List<Double> eosStreaming = measured.stream().map(r -> r.eos().streamingRate()).toList();
            List<Double> alosStreaming = measured.stream().map(r -> r.alos().streamingRate()).toList();
            out.add(String.format(Locale.ROOT, "  of which starting:        first batch visible after %.2f s "
                    + "(exactly-once) and %.2f s (at-least-once), medians; after the first batch %.0f and %.0f "
                    + "events/s, medians: cost %.1f %% (no target)", median(eosFirst), median(alosFirst),
                    median(eosStreaming), median(alosStreaming), 100 * (1 - median(eosStreaming)
                            / median(alosStreaming))));
        }
        for (LatencyResult latency : latencies) {
            long[] append = latency.append();
            double p99 = LatencyProbe.percentile(append, 99) / 1000.0;
            out.add(String.format(Locale.ROOT, "LATENCY %s  (commit -> Kafka, %d events committed in the %d s "
                    + "window)", latency.path().label(), append.length, latencySeconds));
            out.add(String.format(Locale.ROOT, "  broker append:          %s; target p99 <= %.0f ms: %s",
                    latencyFigures(append), LATENCY_TARGET_P99_MS,
                    append.length > 0 && p99 <= LATENCY_TARGET_P99_MS ? "MET" : "NOT MET"));
            out.add(String.format(Locale.ROOT, "  read_committed receipt: %s (this consumer's fetch included)",
                    latencyFigures(latency.visible())));
            out.add("  " + latency.detail());
        }
        if (disturbed) {
            out.add("!! WARNING: other programs used more than " + CpuProfile.OTHER_LOAD_WARNING + " cores during at "
                    + "least one measured part (see 'other processes' above): those figures are disturbed");
        }
        out.add("==============================================================");
        System.out.println();
        out.forEach(System.out::println);
    }

    private static String ratioLine(String title, double ratio, String mode, List<Double> ratios) {
        return String.format(Locale.ROOT, "  %-24s %8.2f  %s median / no-op median (rounds' own ratios: median "
                + "%.2f, min %.2f, max %.2f); target >= %.1f: %s", title, ratio, mode, median(ratios), min(ratios),
                max(ratios), THROUGHPUT_TARGET_RATIO, ratio >= THROUGHPUT_TARGET_RATIO ? "MET" : "NOT MET");
    }

    private static String latencyFigures(long[] sorted) {
        return String.format(Locale.ROOT, "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms, "
                + "mean %.1f ms", LatencyProbe.percentile(sorted, 50) / 1000.0,
                LatencyProbe.percentile(sorted, 90) / 1000.0, LatencyProbe.percentile(sorted, 99) / 1000.0,
                LatencyProbe.percentile(sorted, 99.9) / 1000.0, LatencyProbe.percentile(sorted, 100) / 1000.0,
                LatencyProbe.mean(sorted) / 1000.0);
    }

    private static boolean isDisturbed(String cpu) {
        return cpu.contains(CpuProfile.DISTURBED);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static double min(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    private static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    private static String fmt(PathResult r) {
        return String.format(Locale.ROOT, "%d events in %.2f s = %.0f events/s (first batch after %.2f s; after the "
                + "first batch: %.0f/s); %s", r.events(), r.seconds(), r.rate(), r.firstSeconds(), r.streamingRate(),
                r.detail());
    }

    /** The commit the benchmark ran from, and whether the working tree had changes; or why that is unknown. */
    private static String gitDescription() {
        try {
            Process head = new ProcessBuilder("git", "log", "-1", "--format=%h %cI %s").redirectErrorStream(true)
                    .start();
            String commit = new String(head.getInputStream().readAllBytes()).trim();
            Process status = new ProcessBuilder("git", "status", "--porcelain", "--untracked-files=no")
                    .redirectErrorStream(true).start();
            String dirty = new String(status.getInputStream().readAllBytes()).trim();
            if (head.waitFor() != 0 || status.waitFor() != 0) {
                return "unknown (not a git checkout)";
            }
            return "commit " + commit + (dirty.isEmpty() ? "" : " + uncommitted changes to tracked files");
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }

    private static void log(String message) {
        System.out.println("[bench " + java.time.LocalTime.now().withNano(0) + "] " + message);
    }
}
