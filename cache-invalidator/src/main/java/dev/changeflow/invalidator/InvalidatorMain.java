package dev.changeflow.invalidator;

import dev.changeflow.config.Settings;
import dev.changeflow.router.service.ServiceProcess;
import java.util.List;

/**
 * Runs the cache invalidator as a process of its own (the same as {@code changeflow run invalidator}), configured
 * from environment variables, system properties, or the properties file named by {@code CHANGEFLOW_CONFIG_FILE}, with
 * {@code /health}, {@code /ready} and {@code /metrics} on {@code CHANGEFLOW_HTTP_PORT}. SIGTERM or SIGINT stops it
 * cleanly (the batches in hand finish and are committed; the JVM then exits with 128 + the signal number, 143 for
 * SIGTERM); it exits 1 if the subscription stopped on an error it cannot retry, and 2 for a bad setting or a failed
 * startup check (one line on stderr says which). See {@link ServiceProcess}.
 */
public final class InvalidatorMain {
    private InvalidatorMain() {
    }

    public static void main(String[] args) {
        ServiceProcess.useDefaultLogging();
        ServiceProcess.run("invalidator", Settings::load,
                (settings, registry) -> List.of(InvalidatorService.create(settings, registry)));
    }
}
