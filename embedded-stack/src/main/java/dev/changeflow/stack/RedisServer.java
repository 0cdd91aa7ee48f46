package dev.changeflow.stack;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.stack.internal.RedisLaunchers;
import java.net.URI;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A running Redis: a {@code redis-server} child process started here (from PATH, else the binary shipped in the
 * embedded-redis jar), or an external server given by {@link ConnectionSettings#REDIS_URL}. Thread-safe.
 */
public final class RedisServer implements AutoCloseable {
    /** Lifecycle of a Redis started here; null for an external one. */
    public interface Control extends AutoCloseable {
        /** Stops the process; data is not kept (no persistence is configured). */
        void stop();

        /** Starts the process again on the same port. */
        void restart();
    }

    private final URI uri;
    private final Control control;

    /** For launchers: {@code control} is null for an external server. */
    public RedisServer(URI uri, Control control) {
        this.uri = Objects.requireNonNull(uri);
        this.control = control;
    }

    /**
     * Starts a local Redis, or checks and returns the external one of {@link ConnectionSettings#REDIS_URL}.
     *
     * @throws ConfigException naming {@code CHANGEFLOW_REDIS_URL} if the external server does not answer PING
     */
    public static RedisServer start(Settings settings) {
        return settings.raw(ConnectionSettings.REDIS_URL).isPresent()
                ? RedisLaunchers.external(settings)
                : RedisLaunchers.local(settings);
    }

    /**
     * A local {@code redis-server} on {@code port} (0 = free) with its working files in {@code directory}; no
     * persistence needed (it is a cache). The port is exactly the one asked for, never another; the server starts
     * empty and binds 127.0.0.1 only. Its PID is recorded in {@code directory}, so that a server left running by a JVM
     * killed with {@code -9} is stopped by the next start on the same directory (one log line).
     *
     * <p>{@link #close()} stops the process without saving and keeps {@code directory}; it is idempotent and accepts
     * that the process already exited (a terminal's Ctrl-C reaches it too: it shares the JVM's process group).
     *
     * @param directory created if missing; must not be in use by another live server
     * @param port 1-65535, or 0 for a free port
     * @return a running server, never null; {@link #isManaged()} is true
     * @throws IllegalStateException naming the port if it is taken, or naming the owner if another live process
     *     uses {@code directory}
     * @throws IllegalArgumentException if {@code port} is out of range
     */
    public static RedisServer startLocal(Path directory, int port) {
        return RedisLaunchers.local(Objects.requireNonNull(directory, "directory"), port);
    }

    /** The {@code redis://} URI for clients; may carry a password, so never log it unmasked. */
    public URI uri() {
        return uri;
    }

    public String host() {
        return uri.getHost();
    }

    public int port() {
        return uri.getPort() < 0 ? 6379 : uri.getPort();
    }

    /** Whether this server was started here and so can be stopped and restarted (for outage tests). */
    public boolean isManaged() {
        return control != null;
    }

    /**
     * Stops a server started here, keeping its port and its data (saved to disk) for {@link #restart()}: to clients it
     * is an outage, not a wipe.
     *
     * @throws UnsupportedOperationException for an external server
     */
    public void stop() {
        managed().stop();
    }

    /**
     * Starts a stopped server again on the same port.
     *
     * @throws UnsupportedOperationException for an external server
     */
    public void restart() {
        managed().restart();
    }

    private Control managed() {
        if (control == null) {
            throw new UnsupportedOperationException("An external Redis cannot be stopped from here");
        }
        return control;
    }

    @Override
    public void close() throws Exception {
        if (control != null) {
            control.close();
        }
    }

    @Override
    public String toString() {
        return (control == null ? "external" : "local") + " Redis at " + host() + ":" + port();
    }
}
