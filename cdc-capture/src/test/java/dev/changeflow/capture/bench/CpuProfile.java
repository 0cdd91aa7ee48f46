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
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where the CPU went during a run: this JVM's threads grouped by name (digits folded), and the Postgres processes
 * (from /proc, grouped as walsender, client backend, background). Shows what the two cores were shared between.
 */
final class CpuProfile {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final double TICKS_PER_SECOND = 100.0; // USER_HZ on Linux
    private static final long PF_KTHREAD = 0x00200000; // /proc/<pid>/stat flags: a kernel thread
    /** The postmaster of the benchmark's Postgres; only it and its children are counted (other servers may run). */
    private static volatile long postmasterPid = -1;

    /** Cores used by other programs (not kernel threads) above which a measurement is flagged as disturbed. */
    static final double OTHER_LOAD_WARNING = 0.15;
    /** The mark on a profile taken while other programs used more than {@link #OTHER_LOAD_WARNING}. */
    static final String DISTURBED = "(!! the machine was not otherwise idle)";

    private final long nanos = System.nanoTime();
    private final Map<Long, String> names = new HashMap<>();
    private final Map<Long, Long> threadCpu = new HashMap<>();
    private final Map<String, Long> processTicks = new HashMap<>(); // "pid kind" -> utime + stime
    private final Map<String, Long> kernelTicks = new HashMap<>(); // kernel threads (writeback, ...): pid -> ticks
    /** CPU of the postmaster's children that have exited (autovacuum workers, ...), as the kernel sums it. */
    private long exitedChildTicks;
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
        // By kind, as totals at each end: a child that exits in between moves from its kind to "exited children".
        Map<String, Long> before = byKind();
        Map<String, Long> after = end.byKind();
        Set<String> kinds = new HashSet<>(before.keySet());
        kinds.addAll(after.keySet());
        kinds.forEach(kind -> groups.put("postgres:" + kind,
                (after.getOrDefault(kind, 0L) - before.getOrDefault(kind, 0L)) / TICKS_PER_SECOND));
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
            double kernel = end.kernelTicks.entrySet().stream()
                    .mapToLong(e -> e.getValue() - kernelTicks.getOrDefault(e.getKey(), 0L)).sum()
                    / TICKS_PER_SECOND / wall;
            double other = Math.max(0, machineCores - processCores - pg / wall);
            double programs = Math.max(0, other - kernel);
            others = String.format(Locale.ROOT, "other processes %.2f cores (kernel threads such as writeback %.2f, "
                    + "other programs %.2f)%s; ", other, Math.min(kernel, other), programs,
                    programs > OTHER_LOAD_WARNING ? " " + DISTURBED : "");
        }
        return machine + process + String.format(Locale.ROOT, "benchmark's Postgres %.2f cores; ", pg / wall) + others
                + "top: " + groups.entrySet().stream()
                        .filter(e -> e.getValue() / wall >= 0.005)
                        .sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(top)
                        .map(e -> String.format(Locale.ROOT, "%s %.2f", e.getKey(), e.getValue() / wall))
                        .collect(Collectors.joining(", "));
    }

    private Map<String, Long> byKind() {
        Map<String, Long> kinds = new HashMap<>();
        processTicks.forEach((key, ticks) -> kinds.merge(key.substring(key.indexOf(' ') + 1), ticks, Long::sum));
        kinds.merge("exited children", exitedChildTicks, Long::sum);
        return kinds;
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
                    if (open < 0 || close < 0) {
                        continue;
                    }
                    String[] f = stat.substring(close + 2).split(" ");
                    if ((Long.parseLong(f[6]) & PF_KTHREAD) != 0) {
                        kernelTicks.put(dir.getFileName().toString(), Long.parseLong(f[11]) + Long.parseLong(f[12]));
                        continue;
                    }
                    if (!stat.substring(open + 1, close).startsWith("postgres")) {
                        continue;
                    }
                    long pid = Long.parseLong(dir.getFileName().toString());
                    if (postmasterPid > 0 && pid != postmasterPid && Long.parseLong(f[1]) != postmasterPid) {
                        continue;
                    }
                    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                    if (pid == postmasterPid) {
                        exitedChildTicks = Long.parseLong(f[13]) + Long.parseLong(f[14]);
                    }
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
