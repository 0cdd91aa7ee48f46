package dev.changeflow.router.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API on a process's {@link OpsEndpoint}: routes that change things or read data, each behind the bearer
 * token. Without a configured token every admin path answers 404 ("off", never open); with one, a request without the
 * right {@code Authorization: Bearer <token>} header gets 401 before any route is looked at. A path that exists but
 * not for the method gets 405. Bodies are JSON. The token and request bodies are never logged; each call is logged
 * with its method, path and status.
 */
public final class AdminApi {
    private static final Logger LOG = LoggerFactory.getLogger(AdminApi.class);
    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    private static final int MAX_BODY = 64 * 1024;

    private final Optional<BearerToken> token;
    private final List<AdminRoute> routes;

    public AdminApi(Optional<BearerToken> token, List<AdminRoute> routes) {
        this.token = token;
        this.routes = List.copyOf(routes);
    }

    /** The JSON mapper of admin bodies, for handlers that parse a request body. */
    public static ObjectMapper json() {
        return JSON;
    }

    /**
     * The first path segments of every admin endpoint of any process. Each process serves all of them, so that a
     * request for an admin endpoint another kind of process hosts (such as {@code /slots} on a consumer) still needs
     * the token, then gets 404.
     */
    public static final List<String> PREFIXES = List.of("/lag", "/slots", "/topic", "/consumer");

    /** Serves every route on {@code endpoint}, by the first segment of its path (such as {@code /slots}). */
    public void install(OpsEndpoint endpoint) {
        Set<String> prefixes = new LinkedHashSet<>(PREFIXES);
        for (AdminRoute route : routes) {
            String pattern = route.path().pattern();
            int next = pattern.indexOf('/', 1);
            prefixes.add(next < 0 ? pattern : pattern.substring(0, next));
        }
        prefixes.forEach(prefix -> endpoint.route(prefix, this::serve));
        if (token.isEmpty()) {
            LOG.info("Admin API off: {} is not set", OpsSettings.ADMIN_TOKEN.envName());
        }
    }

    /** The paths served, for logs. */
    public List<String> describe() {
        return routes.stream().map(r -> r.method() + " " + r.path().pattern()).toList();
    }

    private void serve(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod().toUpperCase(Locale.ROOT);
            AdminRoute.Response response = respond(exchange, method, path);
            LOG.info("Admin {} {} -> {}", method, path, response.status());
            send(exchange, response);
        } catch (RuntimeException e) {
            LOG.warn("Admin API failed on {}: {}", exchange.getRequestURI().getPath(), e.toString());
        }
    }

    private AdminRoute.Response respond(HttpExchange exchange, String method, String path) {
        Optional<BearerToken.Refusal> refusal = BearerToken.refusal(token,
                exchange.getRequestHeaders().getFirst("Authorization"), "the admin API");
        if (refusal.isPresent()) {
            if (refusal.get().status() == 401) {
                exchange.getResponseHeaders().set("WWW-Authenticate", BearerToken.Refusal.CHALLENGE);
            }
            return AdminRoute.Response.error(refusal.get().status(), refusal.get().message());
        }
        List<String> allowed = new ArrayList<>();
        for (AdminRoute route : routes) {
            Matcher m = route.path().matcher(path);
            if (!m.matches()) {
                continue;
            }
            if (!route.method().equals(method)) {
                allowed.add(route.method());
                continue;
            }
            List<String> parameters = new ArrayList<>();
            for (int i = 1; i <= m.groupCount(); i++) {
                parameters.add(URLDecoder.decode(m.group(i), StandardCharsets.UTF_8));
            }
            try {
                return route.handler().handle(new AdminRoute.Request(parameters,
                        query(exchange.getRequestURI().getRawQuery()), body(exchange)));
            } catch (IllegalArgumentException e) {
                return AdminRoute.Response.error(400, e.getMessage());
            } catch (Exception e) {
                LOG.warn("Admin {} {} failed: {}", method, path, e.toString());
                return AdminRoute.Response.error(500, e.getMessage() == null ? e.toString() : e.getMessage());
            }
        }
        if (!allowed.isEmpty()) {
            exchange.getResponseHeaders().set("Allow", String.join(", ", allowed));
            return AdminRoute.Response.error(405, path + " accepts " + String.join(", ", allowed));
        }
        return AdminRoute.Response.error(404, "no admin endpoint " + path + " in this process");
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> query = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return query;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            query.put(key, value);
        }
        return query;
    }

    private static String body(HttpExchange exchange) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            byte[] bytes = in.readNBytes(MAX_BODY + 1);
            if (bytes.length > MAX_BODY) {
                throw new IllegalArgumentException("request body larger than " + MAX_BODY + " bytes");
            }
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    private static void send(HttpExchange exchange, AdminRoute.Response response) throws IOException {
        byte[] body = (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(response.body()) + "\n")
                .getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(response.status(), body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
