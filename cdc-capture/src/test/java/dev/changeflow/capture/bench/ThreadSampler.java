package dev.changeflow.capture.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Where capture's threads are, sampled: every {@code periodMillis} it takes the stacks of the threads that do
 * capture's work (Debezium's coordinator, which streams and runs snapshot chunks; the engine's processing threads,
 * which run the publisher; the transactional writer; the producer's network thread) and tallies, per thread group,
 * the thread state and the first frame that is not a lock or wait of the JDK, with the nearest Debezium or Changeflow
 * frame below it. A cheap wall-clock profile: it says where a thread waits as well as where it computes, which CPU
 * times alone ({@link CpuProfile}) cannot. Samples of pool threads without a Debezium or Changeflow frame (idle pools)
 * are not counted.
 */
final class ThreadSampler implements AutoCloseable {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final long RESOLVE_NANOS = 1_000_000_000L;

    private final long periodMillis;
    private final Map<String, Map<String, Integer>> tallies = new LinkedHashMap<>();
    private final Map<String, Integer> samples = new HashMap<>();
    private final Thread thread;
    private volatile boolean running = true;
    private long[] ids = new long[0];
    private String[] groups = new String[0];
    private long resolvedNanos;

    private ThreadSampler(long periodMillis) {
        this.periodMillis = periodMillis;
        thread = new Thread(this::run, "bench-thread-sampler");
        thread.setDaemon(true);
    }

    static ThreadSampler start(long periodMillis) {
        ThreadSampler sampler = new ThreadSampler(periodMillis);
        sampler.thread.start();
        return sampler;
    }

    /** The group a capture thread belongs to, or null for threads not sampled. */
    static String groupOf(String name) {
        if (name == null) {
            return null;
        }
        if (name.contains("change-event-source-coordinator")) {
            return "debezium coordinator";
        }
        if (name.matches("pool-\\d+-thread-\\d+")) {
            return "engine processing (publisher)";
        }
        if (name.startsWith("changeflow-capture-tx")) {
            return "transactional writer";
        }
        if (name.startsWith("kafka-producer-network-thread") && name.contains("changeflow-capture")) {
            return "capture producer network";
        }
        return null;
    }

    private void run() {
        while (running) {
            try {
                sample();
                Thread.sleep(periodMillis);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // a thread went away between resolving and sampling; try again
            }
        }
    }

    private void sample() {
        long now = System.nanoTime();
        if (now - resolvedNanos > RESOLVE_NANOS) {
            resolve();
            resolvedNanos = now;
        }
        if (ids.length == 0) {
            return;
        }
        ThreadInfo[] infos = THREADS.getThreadInfo(ids, 64);
        synchronized (tallies) {
            for (int i = 0; i < infos.length; i++) {
                ThreadInfo info = infos[i];
                if (info == null) {
                    continue;
                }
                String key = describe(info, groups[i].startsWith("engine processing"));
                if (key == null) {
                    continue;
                }
                tallies.computeIfAbsent(groups[i], g -> new HashMap<>()).merge(key, 1, Integer::sum);
                samples.merge(groups[i], 1, Integer::sum);
            }
        }
    }

    private void resolve() {
        long[] all = THREADS.getAllThreadIds();
        ThreadInfo[] infos = THREADS.getThreadInfo(all, 0);
        List<Long> keep = new ArrayList<>();
        List<String> keepGroups = new ArrayList<>();
        for (ThreadInfo info : infos) {
            String group = info == null ? null : groupOf(info.getThreadName());
            if (group != null) {
                keep.add(info.getThreadId());
                keepGroups.add(group);
            }
        }
        ids = keep.stream().mapToLong(Long::longValue).toArray();
        groups = keepGroups.toArray(new String[0]);
    }

    /** "STATE frame <- nearest Debezium/Changeflow frame", or null for an idle pool thread. */
    private static String describe(ThreadInfo info, boolean requireOwnFrame) {
        StackTraceElement[] stack = info.getStackTrace();
        int top = -1;
        for (int i = 0; i < stack.length; i++) {
            if (!isPlumbing(stack[i])) {
                top = i;
                break;
            }
        }
        int own = -1;
        for (int i = Math.max(0, top); i < stack.length; i++) {
            if (isOwn(stack[i])) {
                own = i;
                break;
            }
        }
        if (requireOwnFrame && own < 0) {
            return null;
        }
        String state = info.getThreadState().name();
        if (top < 0) {
            return state + " (JDK only)";
        }
        String key = state + " " + frame(stack[top]);
        if (own > top) {
            key += " <- " + frame(stack[own]);
        }
        return key;
    }

    private static boolean isPlumbing(StackTraceElement e) {
        String c = e.getClassName();
        return c.startsWith("java.util.concurrent.") || c.startsWith("jdk.internal.misc.")
                || c.equals("java.lang.Object") || c.equals("java.lang.Thread") || c.startsWith("java.lang.invoke.");
    }

    private static boolean isOwn(StackTraceElement e) {
        return e.getClassName().startsWith("io.debezium.") || e.getClassName().startsWith("dev.changeflow.");
    }

    private static String frame(StackTraceElement e) {
        String c = e.getClassName();
        return c.substring(c.lastIndexOf('.') + 1) + "." + e.getMethodName();
    }

    /** The {@code top} most frequent places per thread group, as shares of that group's samples. */
    String report(int top) {
        synchronized (tallies) {
            List<String> lines = new ArrayList<>();
            tallies.forEach((group, counts) -> {
                int total = samples.getOrDefault(group, 0);
                lines.add(String.format(Locale.ROOT, "    %s (%d samples): %s", group, total,
                        counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                                .limit(top).map(e -> String.format(Locale.ROOT, "%.0f%% %s", 100.0 * e.getValue()
                                        / total, e.getKey())).collect(Collectors.joining("; "))));
            });
            return String.join("\n", lines);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(5000);
    }
}
