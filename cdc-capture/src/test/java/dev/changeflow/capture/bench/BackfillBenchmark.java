package dev.changeflow.capture.bench;

import dev.changeflow.capture.CaptureService;
import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.capture.CaptureTopics;
import dev.changeflow.capture.internal.BackfillProgress;
import dev.changeflow.capture.internal.CaptureMetrics;
import dev.changeflow.capture.snapshot.BackfillStatus;
import dev.changeflow.capture.snapshot.Backfills;
import dev.changeflow.config.Mode;
import dev.changeflow.config.Settings;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import dev.changeflow.router.ChangeHeaders;
import dev.changeflow.router.topics.TopicProvisioner;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Backfill and state-topic benchmark of capture ({@code CaptureService}, exactly once), on the embedded Postgres and
 * Kafka of {@code SharedServers}, in three parts (see docs/benchmarks.md, "Backfills and state topics"):
 * <ol>
 *   <li><b>state</b>: exactly-once throughput on a burst with state topics on and off, each path with its own slot
 *       reading the same WAL, alternating which goes first;</li>
 *   <li><b>snapshot</b>: on an {@code app.tasks} of {@code bench.rows} rows, Debezium's blocking initial snapshot
 *       (snapshot mode {@code initial}, a fresh slot: capture start until every row is a committed record) against a
 *       backfill of the whole table (capture streaming with {@code no_data}, then {@link Backfills#start}: the
 *       request until every row is a committed record) in each chunk size;</li>
 *   <li><b>latency</b>: commit-to-Kafka latency at a steady commit rate, alternately with no backfill and during a
 *       backfill of the whole table.</li>
 * </ol>
 *
 * <p>System properties: {@code bench.parts} (state,snapshot,latency), {@code bench.burst} (200000),
 * {@code bench.warmup} (200000), {@code bench.stateRounds} (4), {@code bench.txSize} (1000), {@code bench.rows}
 * (1000000), {@code bench.chunkSizes} (2048,8192), {@code bench.snapshotRounds} (2), {@code bench.rate} (1000),
 * {@code bench.latencySeconds} (30), {@code bench.latencyWarmupSeconds} (5), {@code bench.latencyPairs} (2),
 * {@code bench.sampleMillis} (20; 0 turns the thread sampler off). Any {@code changeflow.capture.*} or
 * {@code changeflow.topics.*} system property overrides that capture setting, except the ones each path sets itself
 * (delivery, snapshot mode, state topics, and the chunk size of a backfill path).
 */
public final class BackfillBenchmark {
    private static final double BACKFILL_TARGET_RATIO = 1.5;
    private static final double LATENCY_TARGET_FACTOR = 2.0;
    private static final double STATE_COST_TARGET = 0.15;
    private static final long QUIET_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    private final Set<String> parts = Set.of(System.getProperty("bench.parts", "state,snapshot,latency").split(","));
    private final int burst = Integer.getInteger("bench.burst", 200_000);
    private final int warmup = Integer.getInteger("bench.warmup", 200_000);
    private final int stateRounds = Integer.getInteger("bench.stateRounds", 4);
    private final int txSize = Integer.getInteger("bench.txSize", 1000);
    private final int rows = Integer.getInteger("bench.rows", 1_000_000);
    private final List<Integer> chunkSizes = Arrays.stream(System.getProperty("bench.chunkSizes", "2048,8192")
            .split(",")).map(String::trim).map(Integer::valueOf).toList();
    private final int snapshotRounds = Integer.getInteger("bench.snapshotRounds", 2);
    private final int rate = Integer.getInteger("bench.rate", 1000);
    private final int latencySeconds = Integer.getInteger("bench.latencySeconds", 30);
    private final int latencyWarmupSeconds = Integer.getInteger("bench.latencyWarmupSeconds", 5);
    private final int latencyPairs = Integer.getInteger("bench.latencyPairs", 2);
    private final int sampleMillis = Integer.getInteger("bench.sampleMillis", 20);

    private final List<String> results = new ArrayList<>();
    private final List<String> summary = new ArrayList<>();
    private boolean disturbed;
    private BenchWorld world;
    private int pathCounter;

    private BackfillBenchmark() {
    }

    public static void main(String[] args) {
        int status = 0;
        try {
            new BackfillBenchmark().run();
        } catch (Throwable t) {
            System.out.flush();
            System.err.println("Benchmark failed: " + t);
            t.printStackTrace();
            status = 1;
        }
        System.out.flush();
        for (String name : List.of("org.apache.kafka", "kafka", "io.debezium")) {
            if (org.slf4j.LoggerFactory.getLogger(name) instanceof ch.qos.logback.classic.Logger logger) {
                logger.setLevel(ch.qos.logback.classic.Level.OFF);
            }
        }
        System.exit(status);
    }

    private void run() throws Exception {
        String started = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        log("starting embedded servers and a migrated database");
        world = new BenchWorld(200, 5000);
        try (var c = world.sql(); var st = c.createStatement(); var rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            CpuProfile.usePostgresOf(rs.getLong(1));
        }
        if (parts.contains("state") && burst > 0) {
            stateCost();
        }
        if (parts.contains("snapshot") || parts.contains("latency")) {
            prepareTable();
        }
        if (parts.contains("snapshot")) {
            snapshotRates();
        }
        if (parts.contains("latency") && latencySeconds > 0) {
            latencyPart();
        }
        printResults(started);
    }

    // ---------------------------------------------------------------------------------------------------- paths

    /**
     * A capture path of its own (slot, publication, offsets topic, change and state topics), exactly once, with
     * the given snapshot mode, state topics on or off, and chunk size (null: capture's setting).
     */
    private Settings path(String name, String snapshotMode, boolean stateTopics, Integer chunkSize) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put(CaptureSettings.SNAPSHOT_MODE.key(), snapshotMode);
        values.put(CaptureSettings.STATE_TOPICS_ENABLED.key(), Boolean.toString(stateTopics));
        if (chunkSize != null) {
            values.put(CaptureSettings.SNAPSHOT_CHUNK_SIZE.key(), Integer.toString(chunkSize));
        }
        return world.settings(name, CaptureSettings.Delivery.EXACTLY_ONCE).with(values);
    }

    private String newPathName(String prefix) {
        return prefix + (++pathCounter);
    }

    private static String pathOf(Settings settings) {
        String slot = settings.get(CaptureSettings.SLOT);
        return slot.substring(slot.indexOf('_') + 1);
    }

    private void provisionTopics(Settings settings) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", world.kafka.bootstrapServers()))) {
            new TopicProvisioner(admin, Mode.PRODUCTION).provision(CaptureTopics.specs(settings));
        }
    }

    /** Drops the path's slot and deletes its topics (frees WAL and the broker's disk for the next runs). */
    private void dispose(Settings settings) {
        String path = pathOf(settings);
        try {
            world.awaitSlot(path, false, Duration.ofSeconds(60));
            try (Connection c = world.sql(); PreparedStatement s = c.prepareStatement(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?")) {
                s.setString(1, world.slot(path));
                s.execute();
            }
        } catch (Exception e) {
            log("could not drop slot " + world.slot(path) + ": " + e);
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", world.kafka.bootstrapServers()))) {
            Map<String, Integer> topics = new LinkedHashMap<>(CaptureTopics.changeTopicPartitions(settings));
            topics.putAll(CaptureTopics.stateTopicPartitions(settings));
            List<String> names = new ArrayList<>(topics.keySet());
            names.add(settings.get(CaptureSettings.OFFSETS_TOPIC));
            Set<String> existing = admin.listTopics().names().get();
            admin.deleteTopics(names.stream().filter(existing::contains).toList()).all().get();
        } catch (Exception e) {
            log("could not delete the topics of " + path + ": " + e);
        }
    }

    /**
     * {@link BenchWorld#watch}, retried for up to 30 s while the broker does not know the topics yet (they may have
     * been created a moment ago).
     */
    private ChangeTopicWatch watch(String path) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return world.watch(path);
            } catch (java.util.concurrent.ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)
                        || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    /** A watch of the path's state topics (tasks, projects); the topics must exist. */
    private ChangeTopicWatch stateWatch(Settings settings) throws Exception {
        return new ChangeTopicWatch(world.kafka.bootstrapServers(),
                new ArrayList<>(CaptureTopics.stateTopicPartitions(settings).keySet()));
    }

    /** Starts capture on {@code settings} and waits until it streams: a change committed now is visible. */
    private CaptureService startStreaming(Settings settings, MeterRegistry registry) throws Exception {
        String path = pathOf(settings);
        CaptureService service = CaptureService.create(settings, registry);
        service.start();
        world.awaitSlot(path, true, Duration.ofSeconds(60));
        try (ChangeTopicWatch watch = watch(path)) {
            touchSeedTask();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (watch.countCommitted(true) < 1) {
                checkRunning(service);
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("capture " + path + " did not publish a change within 120 s");
                }
                Thread.sleep(20);
            }
        }
        return service;
    }

    private void touchSeedTask() throws Exception {
        try (Connection c = world.sql(); PreparedStatement update = c.prepareStatement(
                "UPDATE app.tasks SET updated_at = now() WHERE id = ?")) {
            update.setObject(1, world.seedTasks.get(0));
            update.executeUpdate();
        }
    }

    private static void checkRunning(CaptureService service) {
        if (service != null && service.state() == CaptureService.State.FAILED) {
            service.whenTerminated().handle((ok, e) -> null).join();
            throw new IllegalStateException("capture failed");
        }
    }

    /** When a run's records became visible to read_committed readers. */
    record Timing(long startNanos, long firstNanos, long firstCount, long doneNanos, long events, String cpu) {
        double rate() {
            return events / ((doneNanos - startNanos) / 1e9);
        }

        double seconds() {
            return (doneNanos - startNanos) / 1e9;
        }

        double firstSeconds() {
            return (firstNanos - startNanos) / 1e9;
        }

        double streamingRate() {
            return (events - firstCount) / ((doneNanos - firstNanos) / 1e9);
        }

        String describe() {
            return String.format(Locale.ROOT, "%d records in %.2f s = %.0f/s (first visible after %.2f s; after it "
                    + "%.0f/s)", events, seconds(), rate(), firstSeconds(), streamingRate());
        }
    }

    /**
     * Waits until {@code expected} committed data records lie in the watched topics, and times it from the watch's
     * stable-offset readings (see {@link ChangeTopicWatch} and CaptureBenchmark's runCapture, which this follows).
     */
    private Timing awaitVisible(ChangeTopicWatch watch, long expected, CaptureService service, long startNanos,
            CpuProfile cpu, String what) throws Exception {
        long deadline = startNanos + TimeUnit.SECONDS.toNanos(120 + expected / 1000);
        String usage = null;
        while (true) {
            long grown = watch.poll();
            if (grown >= expected) {
                if (usage == null) {
                    usage = cpu.until(CpuProfile.take(), 10);
                }
                if (watch.quietNanos() >= QUIET_NANOS) {
                    watch.countCommitted(false);
                    int doneIndex = watch.firstSnapshotWith(expected);
                    if (doneIndex >= 0) {
                        int firstIndex = watch.firstSnapshotWith(1);
                        return new Timing(startNanos, watch.snapshotNanos(firstIndex), watch.recordsAt(firstIndex),
                                watch.snapshotNanos(doneIndex), expected, usage);
                    }
                }
            }
            checkRunning(service);
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(what + ": the stable offsets grew by " + grown + " and "
                        + watch.counted() + " committed records were counted, of " + expected + ", before the timeout");
            }
            Thread.sleep(5);
        }
    }

    private ThreadSampler sampler() {
        return sampleMillis > 0 ? ThreadSampler.start(sampleMillis) : null;
    }

    private String samples(ThreadSampler sampler) throws InterruptedException {
        if (sampler == null) {
            return "";
        }
        sampler.close();
        return "\n  where capture's threads were (a stack sample every " + sampleMillis + " ms; share of each group's "
                + "samples):\n" + sampler.report(6);
    }

    // ---------------------------------------------------------------------------------------------------- part 3

    /** Exactly-once burst throughput with state topics on and off, alternating which path reads the WAL first. */
    private void stateCost() throws Exception {
        Settings on = path("son", "no_data", true, null);
        Settings off = path("soff", "no_data", false, null);
        log("state topics: creating the slots of the two paths (state topics on, off) with snapshot mode no_data");
        for (Settings s : List.of(on, off)) {
            try (CaptureService service = CaptureService.create(s, new SimpleMeterRegistry())) {
                service.start();
                world.awaitSlot(pathOf(s), true, Duration.ofSeconds(60));
                Thread.sleep(3000); // the engine refuses to stop while its task is still starting
            }
            world.awaitSlot(pathOf(s), false, Duration.ofSeconds(60));
        }
        BurstWriter writer = new BurstWriter(world, txSize);
        List<double[]> rounds = new ArrayList<>(); // {on rate, off rate}
        for (int i = 0; i <= stateRounds; i++) {
            if (i == 0 && warmup <= 0) {
                continue;
            }
            String label = i == 0 ? "state warm-up" : "state round " + i;
            int changes = i == 0 ? warmup : burst;
            BurstWriter.Burst b = writer.write(changes, label.replace(' ', '-'));
            log(label + ": wrote " + b);
            boolean onFirst = i % 2 == 1;
            double onRate = 0;
            double offRate = 0;
            for (Settings s : onFirst ? List.of(on, off) : List.of(off, on)) {
                boolean stateOn = s == on;
                String[] out = runBurst(b, s, stateOn);
                double r = Double.parseDouble(out[0]);
                if (stateOn) {
                    onRate = r;
                } else {
                    offRate = r;
                }
                String line = label + " state topics " + (stateOn ? "on " : "off") + ": " + out[1];
                log(line);
                if (i > 0) {
                    results.add(line);
                    disturbed |= out[1].contains(CpuProfile.DISTURBED);
                }
            }
            String line = String.format(Locale.ROOT, "%s (%s first): on %.0f, off %.0f events/s; cost %.1f %%", label,
                    onFirst ? "on" : "off", onRate, offRate, 100 * (1 - onRate / offRate));
            log(line);
            if (i > 0) {
                results.add(line);
                rounds.add(new double[] {onRate, offRate});
            }
        }
        dispose(on);
        dispose(off);
        List<Double> onRates = rounds.stream().map(r -> r[0]).toList();
        List<Double> offRates = rounds.stream().map(r -> r[1]).toList();
        List<Double> costs = rounds.stream().map(r -> 1 - r[0] / r[1]).toList();
        double cost = 1 - median(onRates) / median(offRates);
        summary.add(String.format(Locale.ROOT, "STATE TOPICS  (exactly once, %d rounds of %d changes after a %d-change "
                + "warm-up; events/s from capture start until the burst is committed on the change topics)",
                rounds.size(), burst, warmup));
        summary.add(String.format(Locale.ROOT, "  state topics on:   %8.0f events/s  median (min %.0f, max %.0f)",
                median(onRates), min(onRates), max(onRates)));
        summary.add(String.format(Locale.ROOT, "  state topics off:  %8.0f events/s  median (min %.0f, max %.0f)",
                median(offRates), min(offRates), max(offRates)));
        summary.add(String.format(Locale.ROOT, "  cost:              %7.1f %%  1 - on median / off median (rounds' own: "
                + "%s); target <= %.0f %%: %s", 100 * cost, costs.stream().map(c -> String.format(Locale.ROOT, "%.1f %%",
                        100 * c)).collect(Collectors.joining(", ")), 100 * STATE_COST_TARGET,
                cost <= STATE_COST_TARGET ? "MET" : "NOT MET"));
    }

    /** @return {rate, description} */
    private String[] runBurst(BurstWriter.Burst b, Settings settings, boolean stateOn) throws Exception {
        String path = pathOf(settings);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CaptureService service = null;
        try (ChangeTopicWatch watch = watch(path);
                ChangeTopicWatch state = stateOn ? stateWatch(settings) : null) {
            ThreadSampler sampler = sampler();
            CpuProfile cpu = CpuProfile.take();
            long start = System.nanoTime();
            service = CaptureService.create(settings, registry);
            service.start();
            Timing t = awaitVisible(watch, b.changes(), service, start, cpu, "state " + (stateOn ? "on" : "off"));
            String where = samples(sampler);
            long settleDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            while (published(registry) < b.changes() && System.nanoTime() < settleDeadline) {
                checkRunning(service);
                Thread.sleep(20);
            }
            Thread.sleep(settings.get(CaptureSettings.OFFSET_FLUSH_INTERVAL).toMillis() + 1000);
            service.close();
            world.awaitSlot(path, false, Duration.ofSeconds(60));
            long appended = watch.countCommitted(true);
            String stateCount = state == null ? "" : String.format(Locale.ROOT, ", state topics %d (expected %d)",
                    state.countCommitted(true), b.changes());
            String description = t.describe() + String.format(Locale.ROOT, "; committed data records: change topics "
                    + "%d (expected %d)%s; CPU: %s", appended, b.changes(), stateCount, t.cpu()) + where;
            return new String[] {Double.toString(t.rate()), description};
        } finally {
            if (service != null) {
                service.close();
            }
            world.awaitSlot(path, false, Duration.ofSeconds(60));
        }
    }

    private static long published(MeterRegistry registry) {
        long sum = 0;
        for (Counter c : registry.find(CaptureMetrics.EVENTS).counters()) {
            sum += (long) c.count();
        }
        return sum;
    }

    // ---------------------------------------------------------------------------------------------------- table

    /** Leaves exactly {@code bench.rows} tasks: the seed tasks plus rows inserted with generate_series. */
    private void prepareTable() throws Exception {
        long before = Long.parseLong(world.query("SELECT count(*) FROM app.tasks"));
        long start = System.nanoTime();
        try (Connection c = world.sql(); Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM app.tasks WHERE title NOT LIKE 'Seed task %'");
            long seeds = Long.parseLong(world.query("SELECT count(*) FROM app.tasks"));
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO app.tasks (project_id, title, description, "
                    + "status, priority, assignee, due_date) SELECT (?::uuid[])[1 + (g % ?)], 'Bulk task ' || g, "
                    + "md5(g::text) || ' ' || md5((g * 7)::text), 'todo', 1 + g % 5, "
                    + "CASE WHEN g % 3 = 0 THEN 'user' || (g % 50) END, DATE '2026-12-24' + (g % 90)::int "
                    + "FROM generate_series(1, ?) g")) {
                insert.setArray(1, world.uuids(c, world.projects));
                insert.setInt(2, world.projects.size());
                insert.setLong(3, Math.max(0, rows - seeds));
                insert.executeUpdate();
            }
            s.execute("VACUUM FULL app.tasks");
            s.execute("ANALYZE app.tasks");
        }
        String size = world.query("SELECT pg_size_pretty(pg_table_size('app.tasks'))");
        String count = world.query("SELECT count(*) FROM app.tasks");
        String line = String.format(Locale.ROOT, "app.tasks: %s rows (%s, heap and TOAST; had %d, the seed tasks kept and "
                + "the rest deleted, then inserted with one INSERT ... SELECT generate_series, VACUUM FULL, ANALYZE: "
                + "%.1f s)", count, size, before, (System.nanoTime() - start) / 1e9);
        log(line);
        results.add(line);
    }

    // ---------------------------------------------------------------------------------------------------- part 1

    private void snapshotRates() throws Exception {
        long tasks = Long.parseLong(world.query("SELECT count(*) FROM app.tasks"));
        long projects = Long.parseLong(world.query("SELECT count(*) FROM app.projects"));
        List<String> variants = new ArrayList<>();
        variants.add("initial");
        chunkSizes.forEach(c -> variants.add("backfill " + c));
        Map<String, List<Timing>> timings = new LinkedHashMap<>();
        variants.forEach(v -> timings.put(v, new ArrayList<>()));
        for (int round = 1; round <= snapshotRounds; round++) {
            // Rotate the order, so no variant always runs first (on the JIT's least-warm code paths).
            List<String> order = new ArrayList<>(variants);
            java.util.Collections.rotate(order, -(round - 1));
            for (String variant : order) {
                Timing t;
                String line;
                if (variant.equals("initial")) {
                    Object[] r = initialSnapshot(tasks + projects);
                    t = (Timing) r[0];
                    line = "snapshot round " + round + " initial (Debezium's blocking snapshot, tasks and projects): "
                            + r[1];
                } else {
                    int chunk = Integer.parseInt(variant.substring("backfill ".length()));
                    Object[] r = backfill(tasks, chunk);
                    t = (Timing) r[0];
                    line = "snapshot round " + round + " backfill, chunks of " + chunk + " (tasks): " + r[1];
                }
                timings.get(variant).add(t);
                log(line);
                results.add(line);
                disturbed |= line.contains(CpuProfile.DISTURBED);
            }
        }
        summary.add(String.format(Locale.ROOT, "SNAPSHOT vs BACKFILL  (app.tasks %d rows, %d rounds, order rotated; "
                + "rows/s until every row is a committed record, read_committed)", tasks, snapshotRounds));
        List<Double> initial = timings.get("initial").stream().map(Timing::rate).toList();
        summary.add(String.format(Locale.ROOT, "  initial snapshot (capture start -> last row visible):  %7.0f rows/s "
                + "median (min %.0f, max %.0f); after the first visible batch %.0f rows/s median", median(initial),
                min(initial), max(initial), median(timings.get("initial").stream().map(Timing::streamingRate)
                        .toList())));
        for (int chunk : chunkSizes) {
            List<Double> bf = timings.get("backfill " + chunk).stream().map(Timing::rate).toList();
            double ratio = median(bf) / median(initial);
            summary.add(String.format(Locale.ROOT, "  backfill, chunks of %-6d (request -> last row visible): %7.0f "
                    + "rows/s median (min %.0f, max %.0f); ratio to the initial snapshot %.2f; target >= %.1f: %s",
                    chunk, median(bf), min(bf), max(bf), ratio, BACKFILL_TARGET_RATIO,
                    ratio >= BACKFILL_TARGET_RATIO ? "MET" : "NOT MET"));
        }
    }

    /** Capture with snapshot mode initial from a fresh slot; timed from capture start. @return {Timing, text} */
    private Object[] initialSnapshot(long expected) throws Exception {
        Settings settings = path(newPathName("init"), "initial", true, null);
        String path = pathOf(settings);
        provisionTopics(settings);
        // A fresh deployment's signal table is empty. The blocking snapshot also reads the signal table, and
        // capture's backfill progress takes an execute-snapshot row it reads (left by this benchmark's earlier
        // backfills) for a request, whose chunk size would make capture restart its engine mid-snapshot.
        try (Connection c = world.sql(); Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM " + settings.get(CaptureSettings.SIGNAL_TABLE));
        }
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CaptureService service = null;
        try (ChangeTopicWatch watch = watch(path)) {
            ThreadSampler sampler = sampler();
            CpuProfile cpu = CpuProfile.take();
            long start = System.nanoTime();
            service = CaptureService.create(settings, registry);
            service.start();
            Timing t = awaitVisible(watch, expected, service, start, cpu, "initial snapshot");
            String where = samples(sampler);
            service.close();
            world.awaitSlot(path, false, Duration.ofSeconds(60));
            long appended = watch.countCommitted(true);
            return new Object[] {t, t.describe() + String.format(Locale.ROOT, "; committed data records: %d "
                    + "(expected %d)%s; CPU: %s", appended, expected, appended == expected ? "" : " !! MISMATCH",
                    t.cpu()) + where};
        } finally {
            if (service != null) {
                service.close();
            }
            dispose(settings);
        }
    }

    /** Capture streaming (no_data), then a backfill of the whole table; timed from the request. @return {Timing, text} */
    private Object[] backfill(long expected, int chunk) throws Exception {
        Settings settings = path(newPathName("bf" + chunk + "x"), "no_data", true, chunk);
        String path = pathOf(settings);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CaptureService service = null;
        try {
            service = startStreaming(settings, registry);
            Thread.sleep(1000);
            try (ChangeTopicWatch watch = watch(path)) {
                Backfills backfills = Backfills.from(settings);
                ThreadSampler sampler = sampler();
                CpuProfile cpu = CpuProfile.take();
                long start = System.nanoTime();
                BackfillStatus request = backfills.start("tasks", Optional.empty(), OptionalInt.empty());
                double requestSeconds = (System.nanoTime() - start) / 1e9;
                Timing t = awaitVisible(watch, expected, service, start, cpu, "backfill " + chunk);
                String where = samples(sampler);
                BackfillStatus status = awaitDone(backfills, request.id(), service);
                double rowsMeter = sum(registry, BackfillProgress.ROWS);
                double chunksMeter = sum(registry, BackfillProgress.CHUNKS);
                service.close();
                world.awaitSlot(path, false, Duration.ofSeconds(60));
                long appended = watch.countCommitted(true);
                return new Object[] {t, t.describe() + String.format(Locale.ROOT, "; request (Backfills.start: checks, "
                        + "count(*), ledger and signal rows) took %.2f s of it; status %s, %d/%d rows; meters: %s %.0f, "
                        + "%s %.0f; committed data records: %d (expected %d)%s; CPU: %s", requestSeconds,
                        status.state(), status.rowsDone(), status.rowsEstimate(), BackfillProgress.ROWS, rowsMeter,
                        BackfillProgress.CHUNKS, chunksMeter, appended, expected,
                        appended == expected ? "" : " !! MISMATCH", t.cpu()) + where};
            }
        } finally {
            if (service != null) {
                service.close();
            }
            dispose(settings);
        }
    }

    /** Polls {@link Backfills#status()} (every second, up to 30 s) until the request is done; returns the last. */
    private static BackfillStatus awaitDone(Backfills backfills, String id, CaptureService service) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        BackfillStatus last = null;
        while (System.nanoTime() < deadline) {
            checkRunning(service);
            last = backfills.status().stream().filter(s -> s.id().equals(id)).findFirst().orElse(null);
            if (last != null && last.state() == BackfillStatus.State.DONE) {
                return last;
            }
            Thread.sleep(1000);
        }
        return last;
    }

    private static double sum(MeterRegistry registry, String name) {
        return registry.find(name).counters().stream().mapToDouble(Counter::count).sum();
    }

    private static double gauge(MeterRegistry registry, String name) {
        Gauge g = registry.find(name).gauge();
        return g == null ? 0 : g.value();
    }

    // ---------------------------------------------------------------------------------------------------- part 2

    /** One latency window. */
    record Phase(String label, boolean backfill, long fromMillis, long toMillis, String detail) {
    }

    private void latencyPart() throws Exception {
        Settings settings = path(newPathName("lat"), "no_data", true, null);
        String path = pathOf(settings);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        log("latency: capture streaming (exactly once, state topics on), " + rate + " single-row commits/s; "
                + latencyPairs + " x (" + latencySeconds + " s without a backfill, then a backfill of the whole table "
                + "of up to " + latencySeconds + " s)");
        CaptureService service = null;
        List<Phase> phases = new ArrayList<>();
        try (StreamedProbe probe = new StreamedProbe(world.kafka.bootstrapServers(), world.topic(path, "tasks"))) {
            provisionTopics(settings);
            probe.seekToEnd();
            service = startStreaming(settings, registry);
            long readinessEvents = probe.received.get();
            Backfills backfills = Backfills.from(settings);
            try (SteadyWriter writer = new SteadyWriter(world)) {
                long begin = System.currentTimeMillis();
                writer.start(rate);
                sleepChecking(service, writer, latencyWarmupSeconds * 1000L);
                for (int i = 1; i <= latencyPairs; i++) {
                    // Without a backfill.
                    CpuProfile cpu = CpuProfile.take();
                    long from = System.currentTimeMillis();
                    sleepChecking(service, writer, latencySeconds * 1000L);
                    long to = System.currentTimeMillis();
                    phases.add(new Phase("no backfill " + i, false, from, to, "CPU: " + cpu.until(CpuProfile.take(), 8)));
                    log("latency: no backfill " + i + " done");
                    // During a backfill: from the request until the last backfilled row is committed, at most
                    // latencySeconds; the backfill is then left to finish before the next window.
                    double rowsBefore = sum(registry, BackfillProgress.ROWS);
                    double chunksBefore = sum(registry, BackfillProgress.CHUNKS);
                    ThreadSampler sampler = sampler();
                    cpu = CpuProfile.take();
                    long requested = System.currentTimeMillis();
                    BackfillStatus request = backfills.start("tasks", Optional.empty(), OptionalInt.empty());
                    long windowEnd = requested + latencySeconds * 1000L;
                    long lastRowMillis = requested;
                    double lastRows = rowsBefore;
                    String usage = null;
                    String where = "";
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120 + rows / 1000);
                    while (true) {
                        checkRunning(service);
                        if (writer.failure() != null) {
                            throw new IllegalStateException("writer failed", writer.failure());
                        }
                        double now = sum(registry, BackfillProgress.ROWS);
                        long nowMillis = System.currentTimeMillis();
                        if (now > lastRows) {
                            lastRows = now;
                            lastRowMillis = nowMillis;
                        }
                        boolean finished = lastRows > rowsBefore && gauge(registry, BackfillProgress.RUNNING) == 0;
                        if (usage == null && (finished || nowMillis >= windowEnd)) {
                            usage = cpu.until(CpuProfile.take(), 8);
                            where = samples(sampler);
                        }
                        if (finished) {
                            break;
                        }
                        if (System.nanoTime() > deadline) {
                            throw new IllegalStateException("the backfill did not finish before the timeout");
                        }
                        Thread.sleep(20);
                    }
                    long to2 = Math.min(windowEnd, lastRowMillis);
                    long backfillRows = (long) (lastRows - rowsBefore);
                    double backfillSeconds = (lastRowMillis - requested) / 1000.0;
                    phases.add(new Phase("backfill " + i, true, requested, to2, String.format(Locale.ROOT,
                            "backfill %s of %d rows (estimate %d): %d rows in %d chunks, last row committed %.1f s after "
                            + "the request (%.0f rows/s while the writer ran); CPU (window): %s%s", request.id()
                                    .substring(0, 8), request.rowsEstimate(), request.rowsEstimate(), backfillRows,
                            (long) (sum(registry, BackfillProgress.CHUNKS) - chunksBefore), backfillSeconds,
                            backfillRows / backfillSeconds, usage, where)));
                    log("latency: backfill " + i + " done: " + backfillRows + " rows in " + backfillSeconds + " s");
                    // Let capture drain what the backfill held up before the next quiet window.
                    sleepChecking(service, writer, 5000);
                }
                writer.stop();
                if (writer.failure() != null) {
                    throw new IllegalStateException("writer failed " + writer.errors.get() + " times",
                            writer.failure());
                }
                long total = writer.commits.get();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (probe.streamedSince(begin) < total && System.nanoTime() < deadline) {
                    if (probe.failure() != null) {
                        throw new IllegalStateException("latency consumer failed", probe.failure());
                    }
                    Thread.sleep(50);
                }
                String line = String.format(Locale.ROOT, "latency: commits %d in all (%d inserts, %d updates, %d "
                        + "errors); streamed events received %d of %d; read events skipped by the probe %d; readiness "
                        + "events %d", total, writer.inserts.get(), writer.updates.get(), writer.errors.get(),
                        probe.streamedSince(begin), total, probe.reads.get(), readinessEvents);
                log(line);
                results.add(line);
            }
            List<long[]> idle = new ArrayList<>();
            List<long[]> during = new ArrayList<>();
            List<Double> idleP99 = new ArrayList<>();
            List<Double> duringP99 = new ArrayList<>();
            List<Double> idleVisibleP99 = new ArrayList<>();
            List<Double> duringVisibleP99 = new ArrayList<>();
            for (Phase p : phases) {
                long[] append = probe.appendMicros(p.fromMillis(), p.toMillis());
                long[] visible = probe.visibleMicros(p.fromMillis(), p.toMillis());
                (p.backfill() ? during : idle).add(append);
                (p.backfill() ? duringP99 : idleP99).add(LatencyProbe.percentile(append, 99) / 1000.0);
                (p.backfill() ? duringVisibleP99 : idleVisibleP99).add(LatencyProbe.percentile(visible, 99) / 1000.0);
                String line = String.format(Locale.ROOT, "latency %s: window %.1f s, %d events (%.0f/s); broker "
                        + "append %s; read_committed receipt %s; %s", p.label(), (p.toMillis() - p.fromMillis())
                                / 1000.0, append.length, append.length * 1000.0 / Math.max(1, p.toMillis()
                                        - p.fromMillis()), figures(append), figures(visible), p.detail());
                log(line);
                results.add(line);
                disturbed |= line.contains(CpuProfile.DISTURBED);
            }
            long[] idleAll = merge(idle);
            long[] duringAll = merge(during);
            double idle99 = LatencyProbe.percentile(idleAll, 99) / 1000.0;
            double during99 = LatencyProbe.percentile(duringAll, 99) / 1000.0;
            long[] idleVisible = merge(phases.stream().filter(p -> !p.backfill())
                    .map(p -> probe.visibleMicros(p.fromMillis(), p.toMillis())).toList());
            long[] duringVisible = merge(phases.stream().filter(Phase::backfill)
                    .map(p -> probe.visibleMicros(p.fromMillis(), p.toMillis())).toList());
            double idleV99 = LatencyProbe.percentile(idleVisible, 99) / 1000.0;
            double duringV99 = LatencyProbe.percentile(duringVisible, 99) / 1000.0;
            summary.add(String.format(Locale.ROOT, "LATENCY  (commit -> Kafka at %d commits/s, exactly once, state "
                    + "topics on; %d windows without and %d during a backfill of the whole table, chunks of %d)", rate,
                    idle.size(), during.size(), settings.get(CaptureSettings.SNAPSHOT_CHUNK_SIZE)));
            summary.add("  broker append, no backfill:        " + figures(idleAll) + "  (windows' p99: "
                    + list(idleP99) + ")");
            summary.add("  broker append, during a backfill:  " + figures(duringAll) + "  (windows' p99: "
                    + list(duringP99) + ")");
            summary.add(String.format(Locale.ROOT, "  p99 during / p99 without: %.2f; target <= %.1f: %s",
                    during99 / idle99, LATENCY_TARGET_FACTOR, during99 <= LATENCY_TARGET_FACTOR * idle99 ? "MET"
                            : "NOT MET"));
            summary.add("  read_committed receipt, no backfill:       " + figures(idleVisible) + "  (windows' p99: "
                    + list(idleVisibleP99) + ")");
            summary.add("  read_committed receipt, during a backfill: " + figures(duringVisible) + "  (windows' p99: "
                    + list(duringVisibleP99) + ")");
            summary.add(String.format(Locale.ROOT, "  receipt p99 during / p99 without: %.2f; target <= %.1f: %s",
                    duringV99 / idleV99, LATENCY_TARGET_FACTOR, duringV99 <= LATENCY_TARGET_FACTOR * idleV99 ? "MET"
                            : "NOT MET"));
        } finally {
            if (service != null) {
                service.close();
            }
            dispose(settings);
        }
    }

    private static void sleepChecking(CaptureService service, SteadyWriter writer, long millis) throws Exception {
        long until = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < until) {
            checkRunning(service);
            if (writer.failure() != null) {
                throw new IllegalStateException("writer failed", writer.failure());
            }
            Thread.sleep(Math.min(50, Math.max(1, until - System.currentTimeMillis())));
        }
    }

    private static long[] merge(List<long[]> arrays) {
        return arrays.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    }

    private static String list(List<Double> values) {
        return values.stream().map(v -> String.format(Locale.ROOT, "%.1f", v)).collect(Collectors.joining(", "))
                + " ms";
    }

    private static String figures(long[] sorted) {
        return String.format(Locale.ROOT, "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms",
                LatencyProbe.percentile(sorted, 50) / 1000.0, LatencyProbe.percentile(sorted, 90) / 1000.0,
                LatencyProbe.percentile(sorted, 99) / 1000.0, LatencyProbe.percentile(sorted, 99.9) / 1000.0,
                LatencyProbe.percentile(sorted, 100) / 1000.0);
    }

    /**
     * As {@link LatencyProbe} (read_committed, from the end of the tasks change topic: commit time, broker append
     * time, receipt time per event), but it skips the backfill's read events by their {@code cdc-op} header without
     * decoding them: only streamed changes have a commit to measure from.
     */
    static final class StreamedProbe implements AutoCloseable {
        private final KafkaConsumer<String, byte[]> consumer;
        private final List<TopicPartition> partitions;
        private Thread thread;
        private volatile boolean running = true;
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        final AtomicLong received = new AtomicLong();
        final AtomicLong reads = new AtomicLong();
        private final List<long[]> samples = new ArrayList<>();
        private final String topic;
        private final String bootstrap;

        StreamedProbe(String bootstrap, String topic) {
            this.bootstrap = bootstrap;
            this.topic = topic;
            consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                    ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000,
                    ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100),
                    new StringDeserializer(), new ByteArrayDeserializer());
            partitions = new ArrayList<>();
        }

        /** Assigns the topic (which must exist) from its end, and starts reading. */
        void seekToEnd() {
            // A topic created a moment ago may not be in the consumer's metadata yet: ask until it is.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (partitions.isEmpty()) {
                var infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
                if (infos != null) {
                    infos.forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
                }
                if (partitions.isEmpty()) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("topic " + topic + " has no partitions after 30 s");
                    }
                    try {
                        Thread.sleep(200);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                }
            }
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position);
            thread = new Thread(this::run, "bench-streamed-probe");
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            try {
                while (running) {
                    var records = consumer.poll(Duration.ofMillis(100));
                    long receivedMicros = nowMicros();
                    for (ConsumerRecord<String, byte[]> r : records) {
                        Header op = r.headers().lastHeader(ChangeHeaders.OP);
                        if (op != null && "read".equals(new String(op.value(), StandardCharsets.UTF_8))) {
                            reads.incrementAndGet();
                            continue;
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

        long streamedSince(long fromMillis) {
            synchronized (samples) {
                return samples.stream().filter(s -> s[0] >= fromMillis * 1000).count();
            }
        }

        long[] appendMicros(long fromMillis, long toMillis) {
            synchronized (samples) {
                return samples.stream().filter(s -> s[0] >= fromMillis * 1000 && s[0] < toMillis * 1000)
                        .mapToLong(s -> s[1] * 1000 - s[0]).sorted().toArray();
            }
        }

        long[] visibleMicros(long fromMillis, long toMillis) {
            synchronized (samples) {
                return samples.stream().filter(s -> s[0] >= fromMillis * 1000 && s[0] < toMillis * 1000)
                        .mapToLong(s -> s[2] - s[0]).sorted().toArray();
            }
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            if (thread != null) {
                thread.join(10_000);
            } else {
                consumer.close();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------- output

    private void printResults(String started) throws Exception {
        List<String> out = new ArrayList<>();
        out.add("================ Changeflow backfill and state-topic benchmark ================");
        out.add("started:       " + started);
        out.add("machine:       " + Runtime.getRuntime().availableProcessors() + " cores, "
                + (Runtime.getRuntime().maxMemory() >> 20) + " MB max heap, " + System.getProperty("os.name") + " "
                + System.getProperty("os.version"));
        out.add("java:          " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                + ", args " + ManagementFactory.getRuntimeMXBean().getInputArguments());
        out.add("servers:       " + world.postgres + " (PostgreSQL " + world.query("SHOW server_version") + ", fsync="
                + world.query("SHOW fsync") + ", synchronous_commit=" + world.query("SHOW synchronous_commit")
                + " in the benchmark database); " + world.kafka + " (Kafka "
                + org.apache.kafka.common.utils.AppInfoParser.getVersion() + ", in this JVM); Debezium "
                + io.debezium.connector.postgresql.Module.version());
        Settings sample = path("describe", "no_data", true, null);
        out.add("capture:       exactly once; " + BenchWorld.describe(world.commonSettings()) + "; snapshot-chunk-size "
                + sample.get(CaptureSettings.SNAPSHOT_CHUNK_SIZE) + " unless a path sets it, max-batch-size "
                + sample.get(CaptureSettings.MAX_BATCH_SIZE) + ", max-queue-size "
                + sample.get(CaptureSettings.MAX_QUEUE_SIZE) + ", poll-interval "
                + sample.get(CaptureSettings.POLL_INTERVAL).toMillis() + " ms, producer linger "
                + sample.get(CaptureSettings.LINGER).toMillis() + " ms; every path its own slot, offsets, change and "
                + "state topics");
        out.add("workload:      parts " + parts + "; state: warm-up " + warmup + " + " + stateRounds + " x " + burst
                + " changes in transactions of " + txSize + "; snapshot: " + rows + " tasks, " + snapshotRounds
                + " rounds, chunk sizes " + chunkSizes + "; latency: " + rate + " commits/s, " + latencyPairs
                + " x (" + latencySeconds + " s without, up to " + latencySeconds + " s during a backfill)");
        out.add("");
        out.addAll(results);
        out.add("");
        out.addAll(summary);
        if (disturbed) {
            out.add("!! WARNING: other programs used more than " + CpuProfile.OTHER_LOAD_WARNING + " cores during at "
                    + "least one measured part (see 'other processes' above): those figures are disturbed");
        }
        out.add("===============================================================================");
        System.out.println();
        out.forEach(System.out::println);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        if (n == 0) {
            return Double.NaN;
        }
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static double min(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    private static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    private static void log(String message) {
        System.out.println("[bench " + java.time.LocalTime.now().withNano(0) + "] " + message);
    }
}
