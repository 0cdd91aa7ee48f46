package dev.changeflow.indexer;

import dev.changeflow.config.Settings;
import dev.changeflow.router.service.ServiceProcess;
import java.util.List;

/**
 * Runs the search indexer as a process of its own (the same as {@code changeflow run indexer}), configured from
 * environment variables, system properties, or the properties file named by {@code CHANGEFLOW_CONFIG_FILE}, with
 * {@code /health}, {@code /ready} and {@code /metrics} on {@code CHANGEFLOW_HTTP_PORT} and search on
 * {@code CHANGEFLOW_INDEXER_HTTP_PORT}. SIGTERM or SIGINT stops it cleanly (the batches in hand finish and are
 * committed; the JVM then exits with 128 + the signal number, 143 for SIGTERM); it exits 1 if the subscription stopped
 * on an error it cannot retry, and 2 for a bad setting or a failed startup check (one line on stderr says which). See
 * {@link ServiceProcess}.
 */
public final class IndexerMain {
    private IndexerMain() {
    }

    public static void main(String[] args) {
        ServiceProcess.useDefaultLogging();
        ServiceProcess.run("indexer", Settings::load,
                (settings, registry) -> List.of(IndexerService.create(settings, registry)));
    }
}
