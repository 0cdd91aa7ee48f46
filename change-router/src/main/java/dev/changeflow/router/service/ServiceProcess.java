package dev.changeflow.router.service;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs Changeflow services as one process: the body of every {@code main} and of {@code changeflow run}.
 *
 * <ol>
 *   <li>creates the services (validating every setting) and starts the {@link OpsEndpoint};</li>
 *   <li>starts the services in order; {@code /ready} answers 200 once all of them run;</li>
 *   <li>on SIGTERM or SIGINT closes them in reverse order, then the endpoint (the JVM exits with 128 + the signal,
 *       143 for SIGTERM).</li>
 * </ol>
 * Exit codes: 2 for a bad setting or a failed startup check, with one line on stderr that names the setting and what
 * is allowed; 1 when a service stops on an error it cannot retry.
 */
public final class ServiceProcess {
    /** Exit status for a bad setting or a failed startup check. */
    public static final int EXIT_BAD_SETTING = 2;
    /** Exit status when a service failed while running. */
    public static final int EXIT_FAILED = 1;

    /** Creates a process's services from its settings and meter registry; validates, connects to nothing. */
    @FunctionalInterface
    public interface Factory {
        List<ChangeflowService> create(Settings settings, MeterRegistry registry);
    }

    private ServiceProcess() {
    }

    /**
     * Selects the process's logging configuration ({@code changeflow-logback.xml}: Changeflow at INFO, libraries at
     * WARN, to stdout) unless the operator named one; call before anything creates a logger.
     */
    public static void useDefaultLogging() {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "changeflow-logback.xml");
        }
    }

    /**
     * Runs the services {@code factory} creates until the JVM is asked to stop, then exits; never returns normally
     * unless every service was closed.
     *
     * @param processName how messages name the process, such as {@code capture} or {@code run all}
     * @param settingsSource loads the settings, such as {@link Settings#load()}; a {@link ConfigException} it throws
     *     is reported like any bad setting
     */
    public static void run(String processName, Supplier<Settings> settingsSource, Factory factory) {
        Objects.requireNonNull(factory, "factory");
        PrometheusMeterRegistry registry = OpsEndpoint.newRegistry();
        List<ChangeflowService> services;
        OpsEndpoint ops;
        List<ChangeflowService> started = new CopyOnWriteArrayList<>();
        try {
            Settings settings = settingsSource.get();
            services = List.copyOf(factory.create(settings, registry));
            ops = OpsEndpoint.start(settings, registry, () -> services);
            List<AdminRoute> routes = new ArrayList<>(CommonAdminRoutes.of(settings, () -> services));
            services.forEach(service -> routes.addAll(service.adminRoutes()));
            new AdminApi(BearerToken.from(settings), routes).install(ops);
        } catch (ConfigException | IllegalStateException e) {
            exit(processName, EXIT_BAD_SETTING, e.getMessage());
            return;
        }
        Logger log = LoggerFactory.getLogger(ServiceProcess.class);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(started, ops), "changeflow-shutdown"));
        for (ChangeflowService service : services) {
            try {
                started.add(service);
                service.start();
            } catch (ConfigException | IllegalStateException e) {
                stop(started, ops);
                exit(processName, EXIT_BAD_SETTING,
                        (services.size() > 1 ? service.name() + ": " : "") + e.getMessage());
                return;
            }
        }
        log.info("changeflow {}: {} running; health at {}/ready", processName,
                services.stream().map(ChangeflowService::name).toList(), ops.uri());
        // Completes with the first failure's message, or null once every service terminated normally (closed).
        CompletableFuture<String> firstFailure = new CompletableFuture<>();
        for (ChangeflowService service : services) {
            service.whenTerminated().whenComplete((ok, error) -> {
                if (error != null) {
                    firstFailure.complete(service.name() + " failed: " + rootMessage(error));
                }
            });
        }
        // Only when every one closed normally: a failure is reported by its own service's callback above (allOf's
        // callback may run first, and completing with null there would let the process live on, failed).
        CompletableFuture.allOf(services.stream().map(ChangeflowService::whenTerminated)
                .toArray(CompletableFuture[]::new)).thenRun(() -> firstFailure.complete(null));
        String failure = firstFailure.join();
        if (failure != null) {
            exit(processName, EXIT_FAILED, failure);
        }
    }

    /** Closes {@code services} in reverse start order, then the endpoint. Each close is idempotent. */
    private static void stop(List<ChangeflowService> services, OpsEndpoint ops) {
        List<ChangeflowService> reversed = new ArrayList<>(services);
        Collections.reverse(reversed);
        for (ChangeflowService service : reversed) {
            try {
                service.close();
            } catch (RuntimeException e) {
                LoggerFactory.getLogger(ServiceProcess.class).warn("{} did not close cleanly: {}", service.name(),
                        e.toString());
            }
        }
        ops.close();
    }

    private static void exit(String processName, int status, String message) {
        System.err.println("changeflow " + processName + ": " + oneLine(message));
        System.exit(status);
    }

    private static String oneLine(String message) {
        return message == null ? "(no message)" : message.replaceAll("\\s*\\R\\s*", " ");
    }

    private static String rootMessage(Throwable error) {
        return dev.changeflow.router.subscription.ServiceLifecycle.rootMessage(error);
    }
}
