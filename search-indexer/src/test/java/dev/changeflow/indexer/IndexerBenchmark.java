package dev.changeflow.indexer;

import static org.awaitility.Awaitility.await;

import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.index.SearchHits;
import dev.changeflow.indexer.index.SearchIndex;
import dev.changeflow.router.topics.ConsumerLag;
import dev.changeflow.stack.AppRows;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Search indexing benchmark, per engine (embedded Lucene; OpenSearch 2.19 in this JVM), on the embedded servers with
 * capture in the same JVM:
 * <ol>
 *   <li><b>latency</b>: commit to searchable, p50 and p99, while single-row task updates commit at a steady rate
 *       (1,000/s). Every 20th update gives its task a unique title word; a prober runs one search for every word
 *       still awaited, every 10 ms, and records from the end of the update's commit (on this JVM's clock) to the
 *       first search that finds it. So the latency includes capture, Kafka, the indexer's bulk write and the engine's
 *       refresh, with 10 ms resolution.</li>
 *   <li><b>throughput</b>: a backlog of task updates is captured into Kafka while no indexer runs; then an indexer
 *       with a fresh group starts and the time until its lag is 0 gives the maximum indexing rate.</li>
 * </ol>
 * Settings: {@code bench.engines} (lucene,opensearch), {@code bench.rate} (1000), {@code bench.latencySeconds} (30),
 * {@code bench.warmupSeconds} (10), {@code bench.backlog} (100000), {@code bench.tasks} (10000),
 * {@code bench.refreshInterval} (OpenSearch's refresh_interval, 1s: its default).
 */
public final class IndexerBenchmark {
    private static final int PROBE_EVERY = 20;

    private final List<String> engines = Arrays.asList(System.getProperty("bench.engines", "lucene,opensearch")
            .split(","));
    private final int rate = Integer.getInteger("bench.rate", 1000);
    private final int latencySeconds = Integer.getInteger("bench.latencySeconds", 30);
    private final int warmupSeconds = Integer.getInteger("bench.warmupSeconds", 10);
    private final int backlog = Integer.getInteger("bench.backlog", 100_000);
    private final int taskCount = Integer.getInteger("bench.tasks", 10_000);
    private final String refreshInterval = System.getProperty("bench.refreshInterval", "1s");
    private final List<String> results = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        int status = 0;
        try {
            new IndexerBenchmark().run();
        } catch (Exception | AssertionError e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    private void run() throws Exception {
        for (String engine : engines) {
            try (IndexerHarness world = engine.equals("opensearch")
                    ? IndexerHarness.openSearch(OpenSearchNode.shared()) : IndexerHarness.lucene()) {
                world.with("CHANGEFLOW_INDEXER_OPENSEARCH_REFRESH_INTERVAL", refreshInterval);
                world.withCapture("CHANGEFLOW_TOPICS_PARTITIONS", "tasks=48,projects=12");
                world.withCapture("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data");
                List<UUID> tasks = createRows(world);
                world.startCapture();
                String label = engine.equals("opensearch") ? "OpenSearch 2.19 (refresh_interval " + refreshInterval
                        + ")" : "Lucene (embedded)";
                say("%s: capture streaming; %d tasks", label, tasks.size());
                latency(world, tasks, label);
                throughput(world, tasks, label);
            }
        }
        System.out.println();
        System.out.println("==== Indexer benchmark " + ZonedDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE)
                + ", " + Runtime.getRuntime().availableProcessors() + " cores, Java " + Runtime.version() + " ====");
        results.forEach(System.out::println);
        System.out.println("====");
    }

    private List<UUID> createRows(IndexerHarness world) throws Exception {
        try (Connection c = world.sql()) {
            return AppRows.projectsWithTasks(c, 50, taskCount);
        }
    }

    /** Steady single-row updates at {@link #rate}; a prober measures commit to searchable for every 20th. */
    private void latency(IndexerHarness world, List<UUID> tasks, String label) throws Exception {
        if (latencySeconds == 0) {
            return;
        }
        IndexerService indexer = world.startIndexer();
        Prober prober = new Prober(indexer.index());
        Thread probing = new Thread(prober, "bench-prober");
        say("%s latency: %d s warm-up then %d s at %d updates/s", label, warmupSeconds, latencySeconds, rate);
        try (Connection c = world.sql();
                PreparedStatement update = c.prepareStatement("UPDATE app.tasks SET title = ? WHERE id = ?")) {
            c.setAutoCommit(true);
            long total = (long) (warmupSeconds + latencySeconds) * rate;
            long measureFrom = (long) warmupSeconds * rate;
            long start = System.nanoTime();
            long interval = 1_000_000_000L / rate;
            probing.start();
            for (long i = 0; i < total; i++) {
                long due = start + i * interval;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                String word = "w" + i + "x";
                update.setString(1, "bench " + word);
                update.setObject(2, tasks.get((int) (i % tasks.size())));
                update.executeUpdate();
                if (i >= measureFrom && i % PROBE_EVERY == 0) {
                    prober.expect(word, System.nanoTime());
                }
            }
            double achieved = (double) latencySeconds * rate
                    / ((System.nanoTime() - start) / 1e9 - warmupSeconds);
            await("every probe found").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100))
                    .until(() -> prober.pending.isEmpty());
            prober.stop.set(true);
            probing.join();
            long[] samples = prober.latenciesNanos();
            results.add(String.format(Locale.ROOT, "%s: commit -> searchable at %d updates/s (achieved %.0f/s), "
                    + "%d probes: p50 %.0f ms, p99 %.0f ms, max %.0f ms", label, rate, achieved, samples.length,
                    percentile(samples, 0.50), percentile(samples, 0.99), samples[samples.length - 1] / 1e6));
        }
        indexer.close();
    }

    /** A captured backlog, then a fresh group: events per second until its lag is 0. */
    private void throughput(IndexerHarness world, List<UUID> tasks, String label) throws Exception {
        if (backlog == 0) {
            return;
        }
        long endBefore = endOffsets(world);
        say("%s throughput: writing %d updates with no indexer running", label, backlog);
        world.world.writeTitleUpdates(tasks, backlog);
        await("backlog captured").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(200))
                .until(() -> endOffsets(world) - endBefore >= backlog);
        long pending = endOffsets(world);
        String group = world.id + "-throughput";
        world.with("CHANGEFLOW_INDEXER_GROUP", group);
        long start = System.nanoTime();
        IndexerService indexer = world.startIndexer(new SimpleMeterRegistry());
        await("backlog indexed").atMost(Duration.ofMinutes(15)).pollInterval(Duration.ofMillis(100))
                .until(() -> ConsumerLag.of(world.admin, group, world.topics()).total() == 0);
        double seconds = (System.nanoTime() - start) / 1e9;
        results.add(String.format(Locale.ROOT, "%s: indexing throughput %d events (whole topics, %d new, most of "
                + "them already indexed at an older or equal version) in %.1f s = %.0f events/s, from a standing "
                + "start (group creation and assignment included)", label, pending, backlog, seconds,
                pending / seconds));
        indexer.close();
        world.with("CHANGEFLOW_INDEXER_GROUP", world.group);
    }

    private static long endOffsets(IndexerHarness world) throws Exception {
        return world.world.endOffsets();
    }

    private static double percentile(long[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, rank)] / 1e6;
    }

    private static void say(String format, Object... args) {
        System.out.printf(Locale.ROOT, "[bench] " + format + "%n", args);
    }

    /** Searches, every 10 ms, for every word still awaited, and records when each is first found. */
    private static final class Prober implements Runnable {
        final Map<String, Long> pending = new ConcurrentHashMap<>();
        final List<Long> latencies = new ArrayList<>();
        final AtomicBoolean stop = new AtomicBoolean();
        private final SearchIndex index;

        Prober(SearchIndex index) {
            this.index = index;
        }

        void expect(String word, long committedAt) {
            pending.put(word, committedAt);
        }

        @Override
        public void run() {
            while (!stop.get()) {
                List<String> words = List.copyOf(pending.keySet());
                if (!words.isEmpty()) {
                    String query = "title:(" + String.join(" OR ", words) + ")";
                    SearchHits hits = index.search(DocumentType.TASKS, query, words.size());
                    long now = System.nanoTime();
                    for (SearchHits.Hit hit : hits.hits()) {
                        String word = String.valueOf(hit.document().field("title")).substring("bench ".length());
                        Long committed = pending.remove(word);
                        if (committed != null) {
                            synchronized (latencies) {
                                latencies.add(now - committed);
                            }
                        }
                    }
                }
                try {
                    TimeUnit.MILLISECONDS.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        long[] latenciesNanos() {
            synchronized (latencies) {
                return latencies.stream().mapToLong(Long::longValue).sorted().toArray();
            }
        }
    }
}
