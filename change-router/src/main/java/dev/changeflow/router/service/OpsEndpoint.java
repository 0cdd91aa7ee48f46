package dev.changeflow.router.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A process's operations endpoint, on the JDK's HTTP server:
 * <ul>
 *   <li>{@code GET /health}: liveness. 200 while no hosted service has failed, else 503.</li>
 *   <li>{@code GET /ready}: readiness. 200 once every hosted service is ready, 503 before (starting) and after
 *       (stopping or failed).</li>
 *   <li>{@code GET /metrics}: every meter of the registry in the Prometheus text format.</li>
 * </ul>
 * Health bodies are JSON: {@code {"status":"UP","services":{"capture":"READY",...}}}; a service that runs but is
 * stalled shows {@code "STALLED"}, and its {@link ChangeflowService#problem() problem} is listed under
 * {@code "problems"}. More routes can be added with {@link #route}. Thread-safe; {@link #close()} stops the server at once.
 */
public final class OpsEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OpsEndpoint.class);
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final ExecutorService executor;
    private final Supplier<List<ChangeflowService>> services;
    private final URI uri;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private OpsEndpoint(HttpServer server, ExecutorService executor, Supplier<List<ChangeflowService>> services,
            URI uri) {
        this.server = server;
        this.executor = executor;
        this.services = services;
        this.uri = uri;
    }

    /**
     * A Prometheus registry with the JVM's own meters (memory, GC, threads, classes, CPU, uptime) bound, as every
     * Changeflow process exposes them.
     *
     * @param filters meter filters to configure first (a filter applies only to meters registered after it)
     */
    public static PrometheusMeterRegistry newRegistry(MeterFilter... filters) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        for (MeterFilter filter : filters) {
            registry.config().meterFilter(filter);
        }
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        return registry;
    }

    /**
     * Starts the endpoint on {@link OpsSettings#HTTP_HOST}:{@link OpsSettings#HTTP_PORT}.
     *
     * @param services the services whose health is reported, read on each request (may grow while they start)
     * @throws ConfigException naming {@code CHANGEFLOW_HTTP_PORT} if the port is taken, or the host if it is not an
     *     address of this machine
     */
    public static OpsEndpoint start(Settings settings, PrometheusMeterRegistry registry,
            Supplier<List<ChangeflowService>> services) {
        Objects.requireNonNull(registry, "registry");
        String host = settings.get(OpsSettings.HTTP_HOST);
        int port = settings.get(OpsSettings.HTTP_PORT);
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 64);
        } catch (BindException e) {
            throw ConfigException.unusable(OpsSettings.HTTP_PORT, Integer.toString(port),
                    "cannot listen on " + host + ":" + port + " (" + e.getMessage()
                            + "); choose a free port, or 0 for any");
        } catch (IOException e) {
            throw ConfigException.unusable(OpsSettings.HTTP_HOST, host, "cannot listen there: " + e.getMessage());
        }
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "changeflow-ops-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        String shownHost = "0.0.0.0".equals(host) ? "localhost" : host;
        URI uri = URI.create("http://" + shownHost + ":" + server.getAddress().getPort());
        OpsEndpoint endpoint = new OpsEndpoint(server, executor, services, uri);
        server.createContext("/health", endpoint.get(endpoint::health));
        server.createContext("/ready", endpoint.get(endpoint::ready));
        server.createContext("/metrics", endpoint.get(() -> new Response(200, PROMETHEUS_TEXT, registry.scrape())));
        server.start();
        LOG.info("Operations endpoint at {} (/health, /ready, /metrics)", uri);
        return endpoint;
    }

    /** Where the endpoint listens, such as {@code http://localhost:8080}. */
    public URI uri() {
        return uri;
    }

    /** Adds a route; {@code handler} gets every request whose path starts with {@code path}. */
    public void route(String path, HttpHandler handler) {
        server.createContext(path, handler);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        server.stop(0);
        executor.shutdownNow();
    }

    private Response health() {
        List<ChangeflowService> hosted = services.get();
        boolean failed = hosted.stream().anyMatch(s -> s.whenTerminated().isCompletedExceptionally());
        return new Response(failed ? 503 : 200, "application/json", statusJson(failed ? "DOWN" : "UP", hosted));
    }

    private Response ready() {
        List<ChangeflowService> hosted = services.get();
        boolean ready = !hosted.isEmpty() && hosted.stream().allMatch(ChangeflowService::isReady);
        return new Response(ready ? 200 : 503, "application/json", statusJson(ready ? "READY" : "NOT_READY", hosted));
    }

    private static String statusJson(String status, List<ChangeflowService> hosted) {
        Map<String, String> states = new LinkedHashMap<>();
        Map<String, String> problems = new LinkedHashMap<>();
        for (ChangeflowService s : hosted) {
            Optional<String> problem = s.whenTerminated().isDone() ? Optional.empty() : s.problem();
            states.put(s.name(), s.whenTerminated().isCompletedExceptionally() ? "FAILED"
                    : s.whenTerminated().isDone() ? "STOPPED" : problem.isPresent() ? "STALLED"
                    : s.isReady() ? "READY" : "STARTING");
            problem.ifPresent(p -> problems.put(s.name(), p));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", status);
        body.put("services", states);
        if (!problems.isEmpty()) {
            body.put("problems", problems);
        }
        try {
            return JSON.writeValueAsString(body) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Cannot write the health report", e);
        }
    }

    private HttpHandler get(Supplier<Response> responder) {
        return exchange -> {
            try (exchange) {
                if (!"GET".equals(exchange.getRequestMethod().toUpperCase(Locale.ROOT))) {
                    exchange.getResponseHeaders().set("Allow", "GET");
                    send(exchange, new Response(405, "text/plain; charset=utf-8", "GET only\n"));
                    return;
                }
                send(exchange, responder.get());
            } catch (RuntimeException e) {
                LOG.warn("Operations endpoint failed on {}: {}", exchange.getRequestURI().getPath(), e.toString());
            }
        };
    }

    private static void send(HttpExchange exchange, Response response) throws IOException {
        byte[] body = response.body().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", response.contentType());
        exchange.sendResponseHeaders(response.status(), body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private record Response(int status, String contentType, String body) {
    }
}
