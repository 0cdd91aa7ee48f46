package dev.changeflow.indexer;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Runs the search indexer as a process of its own, configured from environment variables, system properties, or the
 * properties file named by {@code CHANGEFLOW_CONFIG_FILE}. SIGTERM or SIGINT stops it cleanly (the batches in hand
 * finish and are committed; the JVM then exits with 128 + the signal number, 143 for SIGTERM); it exits 1 if the
 * subscription stopped on an error it cannot retry, and 2 for a bad setting or a failed startup check (one line on
 * stderr says which).
 */
public final class IndexerMain {
    private IndexerMain() {
    }

    public static void main(String[] args) {
        // Before any logger exists: the process's own logging configuration, unless the operator gave one.
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "changeflow-indexer-logback.xml");
        }
        IndexerService service;
        try {
            service = IndexerService.create(Settings.load(), new SimpleMeterRegistry());
            service.start();
        } catch (ConfigException | IllegalStateException e) {
            System.err.println("changeflow search-indexer: " + e.getMessage());
            System.exit(2);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(service::close, "changeflow-indexer-shutdown"));
        try {
            service.whenTerminated().join();
        } catch (RuntimeException e) {
            System.err.println("changeflow search-indexer: subscription failed: " + e.getMessage());
            System.exit(1);
        }
    }
}
