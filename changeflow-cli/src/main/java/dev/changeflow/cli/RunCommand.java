package dev.changeflow.cli;

import dev.changeflow.capture.CaptureService;
import dev.changeflow.indexer.IndexerService;
import dev.changeflow.invalidator.InvalidatorService;
import dev.changeflow.router.service.ChangeflowService;
import dev.changeflow.router.service.ServiceProcess;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code changeflow run capture|invalidator|indexer|all}: runs services against external Postgres, Kafka, Redis and
 * OpenSearch, configured by environment variables, system properties, or a properties file. See
 * {@link ServiceProcess} for the process's lifecycle, endpoints and exit codes.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs Changeflow services against external servers until SIGTERM or Ctrl-C.",
            "Settings come from environment variables (CHANGEFLOW_...), -D system properties or --config; "
                    + "the README's configuration reference lists them all.",
            "Every process serves /health, /ready and /metrics on CHANGEFLOW_HTTP_PORT (8080)."})
final class RunCommand implements Callable<Integer> {

    /** What a process runs. */
    enum Role {
        capture, invalidator, indexer, all
    }

    @Parameters(index = "0", paramLabel = "SERVICE", description = "capture, invalidator, indexer, or all (one "
            + "process running the three).")
    Role role;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Properties file with settings (by key or "
            + "environment name); environment variables and -D properties win over it.")
    Path config;

    @Override
    public Integer call() {
        ServiceProcess.run(role.name(), () -> CliSettings.load(config), (settings, registry) -> {
            List<ChangeflowService> services = new ArrayList<>();
            // Capture first: it creates the change topics the consumers wait for.
            if (role == Role.capture || role == Role.all) {
                services.add(CaptureService.create(settings, registry));
            }
            if (role == Role.indexer || role == Role.all) {
                services.add(IndexerService.create(settings, registry));
            }
            if (role == Role.invalidator || role == Role.all) {
                services.add(InvalidatorService.create(settings, registry));
            }
            return services;
        });
        return 0;
    }

    @Override
    public String toString() {
        return "run " + (role == null ? "?" : role.name().toLowerCase(Locale.ROOT));
    }
}
