package dev.changeflow.stack.internal;

import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs a server's stop action once, however often {@link #close()} is called, and logs how long it took. */
final class ServerStopper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ServerStopper.class);

    /** A stop action that may fail with an I/O error. */
    interface Action {
        void run() throws IOException;
    }

    private final String server;
    private final Action action;
    private boolean stopped;

    ServerStopper(String server, Action action) {
        this.server = server;
        this.action = action;
    }

    /**
     * Stops the server on the first call; later calls do nothing. Thread-safe: a concurrent call returns only once
     * the first one has finished, so that after any return the server is down.
     */
    @Override
    public synchronized void close() throws IOException {
        if (stopped) {
            return;
        }
        stopped = true;
        long start = System.nanoTime();
        action.run();
        LOG.info("{} stopped in {} ms", server, (System.nanoTime() - start) / 1_000_000);
    }
}
