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
 * Capture benchmark: throughput of the real capture path (Debezium engine, KafkaBatchPublisher, reactor-kafka with
 * acks=all, idempotence and lz4) next to Debezium's engine with a no-op consumer, on the same WAL; and commit-to-Kafka
 * latency at a steady commit rate. Runs against the embedded Postgres and Kafka of {@code SharedServers} (or external
 * ones given by {@code CHANGEFLOW_POSTGRES_URL} / {@code CHANGEFLOW_KAFKA_BOOTSTRAP}). See docs/benchmarks.md.
 *
 * <p>Sizes are system properties: {@code bench.burst} (200000), {@code bench.rounds} (3), {@code bench.warmup}
 * (400000), {@code bench.txSize} (1000), {@code bench.latencySeconds} (30), {@code bench.latencyWarmupSeconds} (5),
 * {@code bench.rate} (1000 commits/s). A burst or latency duration of 0 skips that part. Any
 * {@code changeflow.capture.*} or {@code changeflow.topics.*} system property overrides that capture setting for both
 * paths.
 */
public final class CaptureBenchmark {
    private static final double THROUGHPUT_TARGET_RATIO = 0.8;
    private static final double LATENCY_TARGET_P99_MS = 20.0;

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
    private Settings captureSettings;

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
    }

    private void run() throws Exception {
        String started = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        log("starting embedded servers and a migrated database");
        world = new BenchWorld(200, 5000);
        try (var c = world.sql(); var st = c.createStatement(); var rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            CpuProfile.usePostgresOf(rs.getLong(1)); // read while the backend is alive
        }
        noopSettings = world.settings("noop");
        captureSettings = world.settings("capture");

        log("creating the two logical slots (no-op engine, capture) with snapshot mode no_data");
        NoopEngine.createOffsetsTopic(noopSettings);
        try (NoopEngine engine = new NoopEngine(noopSettings, Long.MAX_VALUE, Long.MAX_VALUE)) {
            engine.start();
            world.awaitSlot("noop", true, Duration.ofSeconds(60));
        }
        world.awaitSlot("noop", false, Duration.ofSeconds(60));
        try (CaptureService service = CaptureService.create(captureSettings, new SimpleMeterRegistry())) {
            service.start();
            world.awaitSlot("capture", true, Duration.ofSeconds(60));
            // The slot turns active before the engine's task has finished starting, and the engine refuses to stop
            // (IllegalStateException out of CaptureService.close) while a task is starting.
            Thread.sleep(3000);
        }
        world.awaitSlot("capture", false, Duration.ofSeconds(60));

        BurstWriter writer = new BurstWriter(world, txSize);
        List<PathResult[]> measured = new ArrayList<>();
        if (warmup > 0 && burst > 0) {
            round("warm-up", writer, warmup);
        }
        for (int i = 1; burst > 0 && i <= rounds; i++) {
            measured.add(round("round " + i, writer, burst));
        }
        long[] latencies = null;
        String latencyDetail = null;
        if (latencySeconds > 0) {
            Object[] out = latency();
            latencies = (long[]) out[0];
            latencyDetail = (String) out[1];
        }
        printResults(started, measured, latencies, latencyDetail);
    }

    private PathResult[] round(String label, BurstWriter writer, int changes) throws Exception {
        log(label + ": writing " + changes + " changes in transactions of " + txSize + " (nothing streaming)");
        BurstWriter.Burst b = writer.write(changes, label);
        log(label + ": wrote " + b + "; WAL retained by the capture slot: " + world.slotLag("capture"));
        PathResult noop = runNoop(b);
        log(label + ": no-op engine " + fmt(noop) + "; CPU: " + noop.cpu());
        PathResult capture = runCapture(b);
        log(label + ": capture->Kafka " + fmt(capture) + "; CPU: " + capture.cpu());
        log(String.format(Locale.ROOT, "%s: ratio capture/no-op %.2f (start->done), %.2f (streaming)", label,
                capture.rate() / noop.rate(), capture.streamingRate() / noop.streamingRate()));
        if (!label.equals("warm-up") && (isDisturbed(noop.cpu()) || isDisturbed(capture.cpu()))) {
            disturbed = true;
        }
        results.add(label + " burst: " + b);
        results.add(label + " no-op:   " + fmt(noop));
        results.add("    CPU: " + noop.cpu());
        results.add(label + " capture: " + fmt(capture));
        results.add("    CPU: " + capture.cpu());
        return new PathResult[] {noop, capture};
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
     * Times capture from start until the change topics' end offsets have grown by the burst: the broker has appended
     * and acknowledged every event. (The {@code changeflow.capture.events} counter is not used for timing: the
     * publisher counts a batch when it settles it, and it settles the newest batch only when the next one arrives,
     * at the latest with the next heartbeat.) Then waits for that settle and an offset flush, so the next start
     * resumes after this burst.
     */
    private PathResult runCapture(BurstWriter.Burst b) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        long first = 0;
        long firstCount = 0;
        long done;
        CaptureService service = null;
        CaptureVariant variant = null;
        try (BenchWorld.EndOffsets offsets = world.endOffsets()) {
            long before = offsets.total();
            CpuProfile cpu = CpuProfile.take();
            long start = System.nanoTime();
            try {
                if (CaptureVariant.requested()) {
                    variant = new CaptureVariant(captureSettings, registry);
                    variant.start();
                } else {
                    service = CaptureService.create(captureSettings, registry);
                    service.start();
                }
                long deadline = start + timeoutNanos(b.changes());
                while (true) {
                    long count = offsets.total() - before;
                    long now = System.nanoTime();
                    if (count > 0 && first == 0) {
                        first = now;
                        firstCount = count;
                    }
                    if (count >= b.changes()) {
                        done = now;
                        break;
                    }
                    checkRunning(service, variant);
                    if (now > deadline) {
                        throw new IllegalStateException("capture published " + count + " of " + b.changes()
                                + " events before the timeout");
                    }
                    Thread.sleep(5);
                }
                String usage = cpu.until(CpuProfile.take(), 8);
                long settleStart = System.nanoTime();
                long settleDeadline = settleStart + captureSettings.get(CaptureSettings.HEARTBEAT_INTERVAL).toNanos()
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
                world.awaitSlot("capture", false, Duration.ofSeconds(60));
                long appended = offsets.total() - before;
                DistributionSummary batches = registry.find(CaptureMetrics.BATCH_SIZE).summary();
                Timer publish = registry.find(CaptureMetrics.PUBLISH_LATENCY).timer();
                String detail = (variant == null ? "" : variant.description + "; ") + (batches == null
                        || publish == null ? "" : String.format(Locale.ROOT, "batches %d, mean %.0f events/batch; "
                        + "%s per batch (handed to Kafka -> settled) mean %.1f ms, %s; ", batches.count(),
                        batches.mean(), CaptureMetrics.PUBLISH_LATENCY, publish.mean(TimeUnit.MILLISECONDS),
                        percentiles(publish))) + String.format(Locale.ROOT, "%s reached the burst %.1f s after the "
                        + "last ack; records appended to the change topics: %d (expected %d)", CaptureMetrics.EVENTS,
                        settleSeconds, appended, b.changes());
                return new PathResult("capture", b.changes(), start, first, firstCount, done, detail, usage);
            } finally {
                if (service != null) {
                    service.close();
                }
                if (variant != null) {
                    variant.close();
                }
                world.awaitSlot("capture", false, Duration.ofSeconds(60));
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
        Thread.sleep(captureSettings.get(CaptureSettings.OFFSET_FLUSH_INTERVAL).toMillis() + 1000);
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

    private Object[] latency() throws Exception {
        log("latency: capture streaming, " + rate + " single-row commits/s for " + latencyWarmupSeconds
                + " s warm-up + " + latencySeconds + " s measured");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (LatencyProbe probe = new LatencyProbe(world.kafka.bootstrapServers(), world.topic("tasks"));
                CaptureService service = CaptureService.create(captureSettings, registry);
                SteadyWriter writer = new SteadyWriter(world)) {
            service.start();
            world.awaitSlot("capture", true, Duration.ofSeconds(60));
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
            while (probe.received.get() < total && System.nanoTime() < deadline) {
                if (probe.failure() != null) {
                    throw new IllegalStateException("latency consumer failed", probe.failure());
                }
                Thread.sleep(20);
            }
            long[] latencies = probe.latenciesMicros(measureFrom, measureTo);
            Timer publish = registry.get(CaptureMetrics.PUBLISH_LATENCY).timer();
            DistributionSummary batches = registry.get(CaptureMetrics.BATCH_SIZE).summary();
            String detail = String.format(Locale.ROOT, "commits: %d in the %d s window (%.0f/s achieved), %d in all "
                    + "(%d inserts, %d updates, %d errors); events received on the tasks topic: %d of %d, %d in "
                    + "the window, %d without LogAppendTime; capture batches: %d, mean %.1f events/batch, "
                    + "handed to Kafka -> settled per batch mean %.1f ms (%s); CPU: %s",
                    writer.measuredCommits.get(), latencySeconds,
                    writer.measuredCommits.get() / (double) latencySeconds,
                    total, writer.inserts.get(), writer.updates.get(), writer.errors.get(), probe.received.get(),
                    total, latencies.length, probe.notAppendTime.get(), batches.count(), batches.mean(),
                    publish.mean(TimeUnit.MILLISECONDS), percentiles(publish), usage);
            disturbed |= isDisturbed(usage);
            log("latency: " + detail);
            return new Object[] {latencies, detail};
        }
    }

    private void printResults(String started, List<PathResult[]> measured, long[] latencies, String latencyDetail)
            throws Exception {
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
                + captureSettings.get(CaptureSettings.POLL_INTERVAL).toMillis() + " ms, max-batch-size "
                + captureSettings.get(CaptureSettings.MAX_BATCH_SIZE) + ", max-queue-size "
                + captureSettings.get(CaptureSettings.MAX_QUEUE_SIZE) + ", producer linger "
                + captureSettings.get(CaptureSettings.LINGER).toMillis() + " ms, batch "
                + captureSettings.get(CaptureSettings.PRODUCER_BATCH_BYTES) / 1024 + " KB, offset flush "
                + captureSettings.get(CaptureSettings.OFFSET_FLUSH_INTERVAL).toMillis() + " ms, heartbeat "
                + captureSettings.get(CaptureSettings.HEARTBEAT_INTERVAL).toSeconds() + " s; producer acks=all, "
                + "idempotent, lz4 (CaptureService)");
        out.add("workload:      warm-up " + warmup + " + " + rounds + " x " + burst + " changes, transactions of "
                + txSize
                + " (79% task INSERT, 20% task UPDATE, 1% project UPDATE), written before each engine starts; "
                + "latency: " + rate + " single-row commits/s (alternating task INSERT / UPDATE, autocommit), "
                + latencyWarmupSeconds + " s warm-up + " + latencySeconds + " s measured");
        out.add("");
        out.addAll(results);
        out.add("");
        if (!measured.isEmpty()) {
            out.add(String.format(Locale.ROOT, "THROUGHPUT  (%d rounds of %d changes each after a %d-change warm-up; "
                    + "events/s from engine start to the last event handled)", measured.size(), burst, warmup));
            if (CaptureVariant.requested()) {
                out.add("  !! the capture rows below are an EXPERIMENT variant (bench.variant.*), not CaptureService");
            }
            List<Double> noops = new ArrayList<>();
            List<Double> captures = new ArrayList<>();
            List<Double> ratios = new ArrayList<>();
            for (int i = 0; i < measured.size(); i++) {
                PathResult noop = measured.get(i)[0];
                PathResult capture = measured.get(i)[1];
                noops.add(noop.rate());
                captures.add(capture.rate());
                ratios.add(capture.rate() / noop.rate());
                out.add(String.format(Locale.ROOT, "  round %d: no-op engine %6.0f events/s (%.2f s), capture -> "
                        + "Kafka %6.0f events/s (%.2f s), ratio %.2f", i + 1, noop.rate(), noop.seconds(),
                        capture.rate(), capture.seconds(), capture.rate() / noop.rate()));
            }
            // The headline compares each path's typical rate (its median over the rounds); the rounds' own ratios
            // are shown for their spread.
            double ratio = median(captures) / median(noops);
            out.add(String.format(Locale.ROOT, "  no-op engine:       %8.0f events/s  median (min %.0f, max %.0f)",
                    median(noops), min(noops), max(noops)));
            out.add(String.format(Locale.ROOT, "  capture -> Kafka:   %8.0f events/s  median (min %.0f, max %.0f)",
                    median(captures), min(captures), max(captures)));
            out.add(String.format(Locale.ROOT, "  ratio:              %8.2f  capture median / no-op median (rounds' "
                    + "own ratios: median %.2f, min %.2f, max %.2f); target >= %.1f: %s", ratio, median(ratios),
                    min(ratios), max(ratios), THROUGHPUT_TARGET_RATIO,
                    ratio >= THROUGHPUT_TARGET_RATIO ? "MET" : "NOT MET"));
        }
        if (latencies != null) {
            double p50 = LatencyProbe.percentile(latencies, 50) / 1000.0;
            double p99 = LatencyProbe.percentile(latencies, 99) / 1000.0;
            out.add(String.format(Locale.ROOT, "LATENCY  (commit -> broker append, %d events committed in the %d s "
                    + "window)", latencies.length, latencySeconds));
            out.add(String.format(Locale.ROOT, "  p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms, "
                    + "mean %.1f ms; target p99 <= %.0f ms: %s", p50,
                    LatencyProbe.percentile(latencies, 90) / 1000.0, p99,
                    LatencyProbe.percentile(latencies, 99.9) / 1000.0,
                    LatencyProbe.percentile(latencies, 100) / 1000.0, LatencyProbe.mean(latencies) / 1000.0,
                    LATENCY_TARGET_P99_MS, latencies.length > 0 && p99 <= LATENCY_TARGET_P99_MS ? "MET" : "NOT MET"));
            out.add("  " + latencyDetail);
        }
        if (disturbed) {
            out.add("!! WARNING: other programs used more than " + CpuProfile.OTHER_LOAD_WARNING + " cores during at "
                    + "least one measured part (see 'other processes' above): those figures are disturbed");
        }
        out.add("==============================================================");
        System.out.println();
        out.forEach(System.out::println);
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
        return String.format(Locale.ROOT, "%d events in %.2f s = %.0f events/s (after the first batch: %.0f/s); %s",
                r.events(), r.seconds(), r.rate(), r.streamingRate(), r.detail());
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
