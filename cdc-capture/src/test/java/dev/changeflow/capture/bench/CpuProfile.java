package dev.changeflow.capture.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Where the CPU went during a run: this JVM's threads grouped by name (digits folded), and the Postgres processes
 * (from /proc, grouped as walsender, client backend, background). Shows what the two cores were shared between.
 */
final class CpuProfile {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final double TICKS_PER_SECOND = 100.0; // USER_HZ on Linux
    /** The postmaster of the benchmark's Postgres; only it and its children are counted (other servers may run). */
    private static volatile long postmasterPid = -1;

    /** Cores used by other processes above which a measurement is flagged as disturbed. */
    static final double OTHER_LOAD_WARNING = 0.15;

    private final long nanos = System.nanoTime();
    private final Map<Long, String> names = new HashMap<>();
    private final Map<Long, Long> threadCpu = new HashMap<>();
    private final Map<String, Long> processTicks = new HashMap<>(); // "pid kind" -> utime + stime
    private final long machineBusy;
    private final long machineTotal;
    private final long processCpu;
    private final long gcMillis;
    private final long jitMillis;

    private CpuProfile() {
        if (THREADS.isThreadCpuTimeSupported() && !THREADS.isThreadCpuTimeEnabled()) {
            THREADS.setThreadCpuTimeEnabled(true);
        }
        for (long id : THREADS.getAllThreadIds()) {
            long cpu = THREADS.getThreadCpuTime(id);
            ThreadInfo info = THREADS.getThreadInfo(id);
            if (cpu >= 0 && info != null) {
                threadCpu.put(id, cpu);
                names.put(id, info.getThreadName());
            }
        }
        readPostgresProcesses();
        long[] machine = machine();
        machineBusy = machine[0];
        machineTotal = machine[1];
        processCpu = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
        gcMillis = ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(gc -> Math.max(0, gc.getCollectionTime())).sum();
        jitMillis = ManagementFactory.getCompilationMXBean() != null
                && ManagementFactory.getCompilationMXBean().isCompilationTimeMonitoringSupported()
                ? ManagementFactory.getCompilationMXBean().getTotalCompilationTime() : -1;
    }

    static CpuProfile take() {
        return new CpuProfile();
    }

    /** Counts only the server that {@code backendPid} (from {@code pg_backend_pid()}) belongs to. */
    static void usePostgresOf(long backendPid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(backendPid), "stat"));
            postmasterPid = Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
        } catch (IOException | RuntimeException e) {
            postmasterPid = -1;
        }
    }

    /** CPU used between {@code this} and {@code end}, in cores (CPU seconds per wall second), largest first. */
    String until(CpuProfile end, int top) {
        double wall = (end.nanos - nanos) / 1e9;
        Map<String, Double> groups = new HashMap<>();
        end.threadCpu.forEach((id, cpu) -> {
            long delta = cpu - threadCpu.getOrDefault(id, 0L);
            groups.merge("jvm:" + group(end.names.get(id)), delta / 1e9, Double::sum);
        });
        end.processTicks.forEach((key, ticks) -> {
            long delta = ticks - processTicks.getOrDefault(key, 0L);
            groups.merge("postgres:" + key.substring(key.indexOf(' ') + 1), delta / TICKS_PER_SECOND, Double::sum);
        });
        double jvm = groups.entrySet().stream().filter(e -> e.getKey().startsWith("jvm:"))
                .mapToDouble(Map.Entry::getValue).sum();
        double pg = groups.entrySet().stream().filter(e -> e.getKey().startsWith("postgres:"))
                .mapToDouble(Map.Entry::getValue).sum();
        String machine = end.machineTotal > machineTotal ? String.format(Locale.ROOT, "machine %.0f%% busy of %d "
                + "cores; ", 100.0 * (end.machineBusy - machineBusy) / (end.machineTotal - machineTotal),
                Runtime.getRuntime().availableProcessors()) : "";
        double processCores = (end.processCpu - processCpu) / 1e9 / wall;
        String process = processCpu < 0 ? "" : String.format(Locale.ROOT, "JVM process %.2f cores (Java threads "
                + "%.2f, JIT compiler + GC + other native threads %.2f; JIT busy %.2f s, GC %.2f s), ",
                processCores, jvm / wall, processCores - jvm / wall, (end.jitMillis - jitMillis) / 1e3,
                (end.gcMillis - gcMillis) / 1e3);
        String others = "";
        if (end.machineTotal > machineTotal && processCpu >= 0) {
            double machineCores = Runtime.getRuntime().availableProcessors() * (double) (end.machineBusy - machineBusy)
                    / (end.machineTotal - machineTotal);
            others = String.format(Locale.ROOT, "other processes %.2f cores%s; ", Math.max(0, machineCores
                    - processCores - pg / wall), machineCores - processCores - pg / wall > OTHER_LOAD_WARNING
                            ? " (!! the machine was not otherwise idle)" : "");
        }
        return machine + process + String.format(Locale.ROOT, "benchmark's Postgres %.2f cores; ", pg / wall) + others
                + "top: " + groups.entrySet().stream()
                        .filter(e -> e.getValue() / wall >= 0.005)
                        .sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(top)
                        .map(e -> String.format(Locale.ROOT, "%s %.2f", e.getKey(), e.getValue() / wall))
                        .collect(Collectors.joining(", "));
    }

    /** Thread names with their numbers folded, so a pool counts once. */
    static String group(String name) {
        if (name == null) {
            return "?";
        }
        return name.replaceAll("\\d+", "#");
    }

    private void readPostgresProcesses() {
        Path proc = Path.of("/proc");
        if (!Files.isDirectory(proc)) {
            return;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(proc, p -> p.getFileName().toString()
                .matches("\\d+"))) {
            for (Path dir : dirs) {
                try {
                    String stat = Files.readString(dir.resolve("stat"));
                    int open = stat.indexOf('(');
                    int close = stat.lastIndexOf(')');
                    if (open < 0 || close < 0 || !stat.substring(open + 1, close).startsWith("postgres")) {
                        continue;
                    }
                    String[] f = stat.substring(close + 2).split(" ");
                    long pid = Long.parseLong(dir.getFileName().toString());
                    if (postmasterPid > 0 && pid != postmasterPid && Long.parseLong(f[1]) != postmasterPid) {
                        continue;
                    }
                    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                    String cmdline = new String(Files.readAllBytes(dir.resolve("cmdline")), StandardCharsets.UTF_8)
                            .replace('\0', ' ').trim();
                    processTicks.put(dir.getFileName() + " " + kind(cmdline), ticks);
                } catch (IOException | RuntimeException e) {
                    // the process exited while we looked
                }
            }
        } catch (IOException e) {
            // no /proc
        }
    }

    private static String kind(String cmdline) {
        if (cmdline.contains("walsender")) {
            return "walsender";
        }
        if (!cmdline.startsWith("postgres:")) {
            return "postmaster";
        }
        for (String background : new String[] {"checkpointer", "background writer", "walwriter", "autovacuum",
            "logical replication launcher", "io worker", "stats"}) {
            if (cmdline.contains(background)) {
                return "background";
            }
        }
        return "client backend";
    }

    private static long[] machine() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            long total = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                long v = Long.parseLong(f[i]);
                total += v;
                if (i != 4 && i != 5) { // idle, iowait
                    busy += v;
                }
            }
            return new long[] {busy, total};
        } catch (IOException | RuntimeException e) {
            return new long[] {0, 0};
        }
    }
}
