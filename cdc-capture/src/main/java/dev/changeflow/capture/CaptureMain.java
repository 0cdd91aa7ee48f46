package dev.changeflow.capture;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Runs capture as a process of its own, configured from environment variables, system properties, or the properties
 * file named by {@code CHANGEFLOW_CONFIG_FILE}. SIGTERM or SIGINT stops it cleanly (the JVM then exits with
 * 128 + the signal number, 143 for SIGTERM); it exits 1 if the engine failed and 2 for a bad setting or a failed
 * startup check (one line on stderr says which).
 */
public final class CaptureMain {
    private CaptureMain() {
    }

    public static void main(String[] args) {
        // Before any logger exists: the process's own logging configuration, unless the operator gave one.
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "changeflow-capture-logback.xml");
        }
        CaptureService service;
        try {
            service = CaptureService.create(Settings.load(), new SimpleMeterRegistry());
            service.start();
        } catch (ConfigException | IllegalStateException e) {
            System.err.println("changeflow capture: " + e.getMessage());
            System.exit(2);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(service::close, "changeflow-capture-shutdown"));
        try {
            service.completion().join();
        } catch (RuntimeException e) {
            System.err.println("changeflow capture: engine failed: " + e.getMessage());
            System.exit(1);
        }
    }
}
