package dev.changeflow.stack.internal;

import dev.changeflow.stack.RedisServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code redis-server} child process bound to 127.0.0.1 with persistence off. Its PID is recorded in the work
 * directory, so a JVM killed with {@code -9} does not leave it running for long: the next start reaps it.
 *
 * <p>The process is in the JVM's process group, so a terminal's Ctrl-C (SIGINT to the foreground group) stops it at
 * the same time as the JVM; {@link #stop()} and {@link #close()} accept that it may already have exited.
 */
final class RedisProcess implements RedisServer.Control {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    private static final int START_ATTEMPTS = 3;

    private final Path binary;
    private final WorkDirectory dir;
    private int port;
    private Process process;

    RedisProcess(Path binary, WorkDirectory dir) {
        this.binary = binary;
        this.dir = dir;
    }

    int port() {
        return port;
    }

    /**
     * Starts on exactly {@code fixedPort}, never another one.
     *
     * @throws IllegalStateException naming the port if it is taken, or if redis-server does not come up
     */
    synchronized void startOn(int fixedPort) {
        FreePorts.requireFree(fixedPort, "Redis");
        launch(fixedPort);
    }

    /** Starts on {@code firstPort}; if another process took that port meanwhile, tries fresh ones. */
    synchronized void start(int firstPort) {
        IllegalStateException last = null;
        int candidate = firstPort;
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            try {
                launch(candidate);
                return;
            } catch (IllegalStateException e) {
                last = e;
                candidate = FreePorts.find();
            }
        }
        throw last;
    }

    private void launch(int candidatePort) {
        long logStart = logSize();
        List<String> command = List.of(binary.toString(),
                "--port", Integer.toString(candidatePort),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--dir", dir.path().toString(),
                "--logfile", dir.path().resolve("redis.log").toString());
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(dir.path().resolve("redis.out").toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot run " + binary, e);
        }
        dir.recordChild("redis", process.pid());
        Instant deadline = Instant.now().plus(START_TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                if (logMentions("Address already in use", logStart)) {
                    throw FreePorts.portTaken(candidatePort, "Redis");
                }
                throw new IllegalStateException("redis-server exited with " + process.exitValue() + " on port "
                        + candidatePort + "; see " + dir.path().resolve("redis.log"));
            }
            try {
                RedisPing.ping("127.0.0.1", candidatePort, null, Duration.ofMillis(500));
                port = candidatePort;
                return;
            } catch (IOException notYet) {
                try {
                    // Polling a starting child process: there is nothing to wait on but its socket.
                    TimeUnit.MILLISECONDS.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    process.destroyForcibly();
                    throw new IllegalStateException("Interrupted while starting Redis", e);
                }
            }
        }
        process.destroyForcibly();
        throw new IllegalStateException("redis-server did not answer PING on port " + candidatePort + " within "
                + START_TIMEOUT.toSeconds() + " s; see " + dir.path().resolve("redis.log"));
    }

    /** Whether what redis-server logged after {@code from} (a size of its log file) contains {@code text}. */
    private boolean logMentions(String text, long from) {
        try {
            byte[] log = Files.readAllBytes(dir.path().resolve("redis.log"));
            return from < log.length && new String(log, (int) from, log.length - (int) from,
                    StandardCharsets.UTF_8).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    private long logSize() {
        try {
            return Files.size(dir.path().resolve("redis.log"));
        } catch (IOException e) {
            return 0;
        }
    }

    @Override
    public synchronized void stop() {
        if (process != null && process.isAlive()) {
            try {
                // Keep the data for restart(), as a real server with persistence would.
                RedisPing.shutdownSaving("127.0.0.1", port, Duration.ofSeconds(5));
            } catch (IOException e) {
                process.destroy();
            }
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }

    @Override
    public synchronized void restart() {
        stop();
        launch(port);
    }

    /**
     * Stops the process without saving (it has no save points, so SIGTERM exits at once; it is killed if still there
     * after 5 s) and releases the work directory. Idempotent; fine if the process already exited.
     */
    @Override
    public synchronized void close() {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!Processes.awaitExit(process.toHandle(), Duration.ofSeconds(5))) {
                process.destroyForcibly();
                Processes.awaitExit(process.toHandle(), Duration.ofSeconds(5));
            }
        }
        dir.close();
    }
}
