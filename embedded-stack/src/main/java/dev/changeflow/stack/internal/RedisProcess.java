package dev.changeflow.stack.internal;

import dev.changeflow.stack.RedisServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code redis-server} child process bound to 127.0.0.1 with persistence off. Its PID is recorded in the work
 * directory, so a JVM killed with {@code -9} does not leave it running for long: the next start reaps it.
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
        throw new IllegalStateException("redis-server did not answer PING within " + START_TIMEOUT);
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

    @Override
    public synchronized void close() {
        stop();
        dir.close();
    }
}
