package dev.changeflow.stack.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Waiting for and stopping server processes, including ones that are not children of this JVM (a postmaster). */
public final class Processes {
    private static final Logger LOG = LoggerFactory.getLogger(Processes.class);
    private static final Duration KILL_GRACE = Duration.ofSeconds(10);
    /** How long the processes of a stopped tree may take to exit after their parent did. */
    private static final Duration DESCENDANTS_GRACE = Duration.ofSeconds(5);

    private Processes() {
    }

    /**
     * Whether {@code process} is still running. Unlike {@link ProcessHandle#isAlive()}, a zombie (exited, not yet
     * reaped by its parent) counts as gone: it holds no port, memory or file any more. A postmaster is a child of
     * PID 1 once pg_ctl exits, and a PID 1 that reaps slowly (as in some containers) leaves it a zombie for a second
     * or more.
     */
    public static boolean isRunning(ProcessHandle process) {
        if (!process.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"),
                    StandardCharsets.US_ASCII);
            // "pid (command) state ...": the command may contain spaces and parentheses, the state follows the last ')'.
            int end = stat.lastIndexOf(')');
            return end < 0 || end + 2 >= stat.length() || stat.charAt(end + 2) != 'Z';
        } catch (IOException | RuntimeException e) {
            return process.isAlive(); // not Linux, or it just went away
        }
    }

    /**
     * Whether {@code process} stopped running within {@code timeout}; on an interrupt, re-asserts it and answers at
     * once. Polls every 10 ms: {@link ProcessHandle#onExit()} polls a process that is not our child at 300 ms and
     * more, and does not count a zombie as exited.
     */
    static boolean awaitExit(ProcessHandle process, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (isRunning(process)) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            try {
                TimeUnit.MILLISECONDS.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return !isRunning(process);
            }
        }
        return true;
    }

    /**
     * Stops a process and its descendants, logging one line: SIGTERM to the process, and SIGKILL to the whole tree if
     * it is still running after 10 s. Returns once they are gone (or after a bounded wait).
     */
    static void stopTree(ProcessHandle process, String what) {
        stopTree(process, what, KILL_GRACE);
    }

    /** As {@link #stopTree(ProcessHandle, String)}, killing the tree after {@code grace} (zero: at once). */
    static void stopTree(ProcessHandle process, String what, Duration grace) {
        LOG.info("Stopping {} {} ({})", what, process.pid(), process.info().command().orElse("?"));
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        tree.add(0, process);
        if (grace.isZero() || !(process.destroy() && awaitExit(process, grace))) {
            tree.forEach(ProcessHandle::destroyForcibly);
        }
        tree.forEach(p -> awaitExit(p, DESCENDANTS_GRACE));
    }
}
