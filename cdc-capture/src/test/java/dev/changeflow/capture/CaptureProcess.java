package dev.changeflow.capture;

import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.testing.MainProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** A capture process of a test's harness, as an operator runs it: {@link CaptureMain}, its output in a log file. */
final class CaptureProcess implements AutoCloseable {
    private final Process process;
    private final Path log;

    private CaptureProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts capture with {@code h}'s settings; it streams once it holds the slot's lease. */
    static CaptureProcess start(CaptureHarness h, Path log) throws IOException {
        return new CaptureProcess(MainProcess.start(CaptureMain.class, h.settings(), log, null), log);
    }

    /** Starts capture and waits until the slot is streamed (by it, when no other capture holds the lease). */
    static CaptureProcess startStreaming(CaptureHarness h, Path log) throws IOException {
        CaptureProcess capture = start(h, log);
        try {
            h.awaitSlotActive();
        } catch (RuntimeException e) {
            throw new AssertionError("capture process did not start; its log:\n" + capture.log(), e);
        }
        return capture;
    }

    /** Its output so far. */
    String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** How often {@code text} occurs in its output so far. */
    int occurrences(String text) {
        String all = log();
        int count = 0;
        for (int at = all.indexOf(text); at >= 0; at = all.indexOf(text, at + text.length())) {
            count++;
        }
        return count;
    }

    /** Waits until {@code text} occurs {@code times} times in its output. */
    void awaitLog(String text, int times, Duration timeout) {
        await("\"" + text + "\" x" + times + " in " + log).atMost(timeout).pollInterval(Duration.ofMillis(100))
                .until(() -> occurrences(text) >= times);
    }

    /** Sends {@code signal} (such as STOP or CONT) to the process. */
    void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed");
        }
    }

    /** SIGKILL, and waits until it is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("capture process " + process.pid() + " survived SIGKILL");
        }
    }

    /** SIGTERM (a clean stop); returns the exit status. */
    int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("capture process " + process.pid() + " did not stop on SIGTERM");
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
