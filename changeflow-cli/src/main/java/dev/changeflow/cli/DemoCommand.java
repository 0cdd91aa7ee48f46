package dev.changeflow.cli;

import dev.changeflow.cli.internal.demo.Demo;
import dev.changeflow.cli.internal.demo.DemoSettings;
import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * {@code changeflow demo}: the whole pipeline on a fresh machine, on servers started here, with a workload and a live
 * status board; Ctrl-C stops everything (exit 130) and the data directory is kept for the next run. Settings as for
 * every command ({@link DemoSettings} for the demo's own); a bad one exits 2 with one line on stderr.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs the whole pipeline on embedded Postgres, Kafka, Redis and Lucene, with a workload that "
                + "writes like an application and a live status board. Ctrl-C stops everything.",
            "Data is kept in CHANGEFLOW_DEMO_DIR (.changeflow/demo), so a restart resumes where it stopped."})
final class DemoCommand implements Callable<Integer> {

    /**
     * Sends logs to {@code <demo dir>/logs/changeflow.log} instead of the terminal, which the status board owns;
     * called before anything creates a logger.
     */
    static void useDemoLogging() {
        if (System.getProperty("logback.configurationFile") != null) {
            return;
        }
        String dir;
        try {
            dir = Settings.load().get(DemoSettings.DIR);
        } catch (ConfigException e) {
            dir = DemoSettings.DIR.defaultValue().orElseThrow();
        }
        System.setProperty("changeflow.demo.log", Path.of(dir, "logs", "changeflow.log").toAbsolutePath().toString());
        System.setProperty("logback.configurationFile", "changeflow-demo-logback.xml");
    }

    @Override
    public Integer call() throws InterruptedException {
        Demo demo;
        try {
            demo = Demo.start(Settings.load(), System.out, System.console() != null);
        } catch (ConfigException | IllegalStateException e) {
            System.err.println("changeflow demo: " + e.getMessage().replaceAll("\\s*\\R\\s*", " "));
            return 2;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            long began = System.nanoTime();
            System.out.println();
            System.out.println("Changeflow demo: stopping...");
            demo.close();
            System.out.printf("Changeflow demo: stopped in %.1f s; data kept, run it again to resume.%n",
                    (System.nanoTime() - began) / 1e9);
        }, "changeflow-demo-stop"));
        String failure = demo.whenFailed().join();
        System.err.println("changeflow demo: " + failure);
        demo.close();
        return 1;
    }
}
