package dev.changeflow.cli.internal.demo;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The demo's live view, read from the process's meters: per stage, how many changes reached it, at what rate, and the
 * latency from the row's commit in Postgres (p50 and p99 over the last half minute or so). In a terminal it redraws
 * one block in place; without one (a pipe, a CI log) it prints one line every ten refreshes.
 */
final class StatusBoard implements AutoCloseable {
    /** One stage: the timer that measures commit-to-stage for each streamed change. */
    private record Stage(String label, String timer) {
    }

    private static final List<Stage> STAGES = List.of(
            new Stage("commit → Kafka", "changeflow.capture.commit.to.published"),
            new Stage("commit → cache", "changeflow.invalidator.commit.to.invalidated"),
            new Stage("commit → search", "changeflow.indexer.commit.to.indexed"));

    private final MeterRegistry registry;
    private final PrintStream out;
    private final boolean terminal;
    private final Duration refresh;
    private final String cacheGroup;
    private final String searchGroup;
    private final long startedNanos = System.nanoTime();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "changeflow-demo-board");
        t.setDaemon(true);
        return t;
    });
    private long[] previousCounts = new long[STAGES.size() + 1];
    private long previousNanos = System.nanoTime();
    private int drawnLines;
    private long ticks;

    StatusBoard(MeterRegistry registry, PrintStream out, boolean terminal, Duration refresh, String cacheGroup,
            String searchGroup) {
        this.registry = registry;
        this.cacheGroup = cacheGroup;
        this.searchGroup = searchGroup;
        this.out = out;
        this.terminal = terminal;
        this.refresh = refresh;
    }

    void start() {
        rates(); // the first rates count from now, not from the seed data
        ticker.scheduleAtFixedRate(this::draw, refresh.toMillis(), refresh.toMillis(), TimeUnit.MILLISECONDS);
    }

    private synchronized void draw() {
        try {
            ticks++;
            if (terminal) {
                List<String> lines = block();
                StringBuilder frame = new StringBuilder();
                if (drawnLines > 0) {
                    frame.append("\033[").append(drawnLines).append("F"); // back to the block's first line
                }
                for (String line : lines) {
                    frame.append("\033[2K").append(line).append('\n');
                }
                out.print(frame);
                out.flush();
                drawnLines = lines.size();
            } else if (ticks % 10 == 0) {
                out.println(line());
            } else {
                rates(); // keep the rate window in step with the refresh
            }
        } catch (RuntimeException e) {
            out.println("(status board: " + e + ")");
        }
    }

    /** The block drawn in a terminal. */
    List<String> block() {
        double[] rates = rates();
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "Changeflow demo, up %s. Ctrl-C stops everything.", uptime()));
        lines.add(String.format(Locale.ROOT, "  %-18s %10s %9s %9s %9s", "stage", "changes", "per sec", "p50",
                "p99"));
        lines.add(String.format(Locale.ROOT, "  %-18s %10d %9.1f", "written (app)", writes(), rates[0]));
        for (int i = 0; i < STAGES.size(); i++) {
            Stage stage = STAGES.get(i);
            double[] p = percentiles(stage.timer());
            lines.add(String.format(Locale.ROOT, "  %-18s %10d %9.1f %9s %9s", stage.label(), count(stage.timer()),
                    rates[i + 1], millis(p[0]), millis(p[1])));
        }
        lines.add(String.format(Locale.ROOT, "  cache keys deleted %d · search documents written %d · "
                + "dead letters %d · lag %s", (long) counter("changeflow.invalidator.keys.unlinked"),
                (long) counter("changeflow.indexer.documents", "outcome", "applied"), deadLetters(), lag()));
        return lines;
    }

    /** The line printed without a terminal. */
    String line() {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "[demo %s] written %d", uptime(),
                writes()));
        for (Stage stage : STAGES) {
            double[] p = percentiles(stage.timer());
            line.append(String.format(Locale.ROOT, " | %s %d (p50 %s, p99 %s)", stage.label(), count(stage.timer()),
                    millis(p[0]).trim(), millis(p[1]).trim()));
        }
        return line.append(" | dead letters ").append(deadLetters()).append(" | lag ").append(lag()).toString();
    }

    private double[] rates() {
        long now = System.nanoTime();
        long[] counts = new long[STAGES.size() + 1];
        counts[0] = writes();
        for (int i = 0; i < STAGES.size(); i++) {
            counts[i + 1] = count(STAGES.get(i).timer());
        }
        double seconds = Math.max(1e-3, (now - previousNanos) / 1e9);
        double[] rates = new double[counts.length];
        for (int i = 0; i < counts.length; i++) {
            rates[i] = (counts[i] - previousCounts[i]) / seconds;
        }
        previousCounts = counts;
        previousNanos = now;
        return rates;
    }

    private long writes() {
        return (long) counter(Workload.WRITES);
    }

    private long count(String timer) {
        Timer t = registry.find(timer).timer();
        return t == null ? 0 : t.count();
    }

    private double[] percentiles(String timer) {
        Timer t = registry.find(timer).timer();
        double[] out = {Double.NaN, Double.NaN};
        if (t == null) {
            return out;
        }
        HistogramSnapshot snapshot = t.takeSnapshot();
        for (ValueAtPercentile v : snapshot.percentileValues()) {
            if (v.percentile() == 0.5) {
                out[0] = v.value(TimeUnit.MILLISECONDS);
            } else if (v.percentile() == 0.99) {
                out[1] = v.value(TimeUnit.MILLISECONDS);
            }
        }
        return out;
    }

    private double counter(String name, String... tags) {
        return registry.find(name).tags(tags).counters().stream().mapToDouble(Counter::count).sum();
    }

    private long deadLetters() {
        return (long) counter("changeflow.subscription.records", "outcome", "dead_lettered");
    }

    private String lag() {
        return String.format(Locale.ROOT, "cache %d, search %d", lagOf(cacheGroup), lagOf(searchGroup));
    }

    private long lagOf(String group) {
        return (long) registry.find("changeflow.subscription.lag").tag("group", group).gauges().stream()
                .mapToDouble(Gauge::value).sum();
    }

    private String uptime() {
        long s = (System.nanoTime() - startedNanos) / 1_000_000_000L;
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }

    private static String millis(double value) {
        return Double.isNaN(value) || value == 0 ? "-" : String.format(Locale.ROOT, "%.0f ms", value);
    }

    @Override
    public synchronized void close() {
        ticker.shutdownNow();
    }
}
