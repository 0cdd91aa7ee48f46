package dev.changeflow.indexer.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.index.IndexedDocument;
import dev.changeflow.indexer.index.InvalidQueryException;
import dev.changeflow.indexer.index.SearchHits;
import dev.changeflow.indexer.index.SearchIndex;
import dev.changeflow.indexer.index.StoredDocument;
import dev.changeflow.router.service.BearerToken;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The indexer's HTTP endpoint, on the JDK's HTTP server (no web framework, no Netty). JSON in UTF-8.
 *
 * <ul>
 *   <li>{@code GET /search/{tasks|projects}?q=<query>[&limit=N]}: live documents matching the query (Lucene syntax,
 *       for example {@code q=report}, {@code q=status:done AND project_name:apollo}), best first:
 *       {@code {"type", "query", "total", "hits": [{"id", "score", "version", "document": {...}}]}}.
 *       {@code limit} defaults to 20 and is capped at the configured maximum.
 *   <li>{@code GET /documents/{tasks|projects}/{id}}: the stored document, tombstones included:
 *       {@code {"id", "version", "deleted", "document"}}; 404 if the index holds nothing for the id.
 * </ul>
 * A missing or unparsable query is a 400, an unknown type or path a 404, an unreachable engine a 503 (retry later),
 * anything else a 500; every error body is {@code {"error": "..."}}.
 */
public final class SearchEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SearchEndpoint.class);
    private static final int DEFAULT_LIMIT = 20;
    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private final SearchIndex index;
    private final int maxResults;
    private final HttpServer server;
    private final ExecutorService executor;
    private final Optional<BearerToken> token;

    private SearchEndpoint(SearchIndex index, int maxResults, HttpServer server, ExecutorService executor,
            Optional<BearerToken> token) {
        this.index = index;
        this.maxResults = maxResults;
        this.server = server;
        this.executor = executor;
        this.token = token;
    }

    /**
     * Starts serving on {@code host:port} (port 0: a free one). Search reads data, so every request needs
     * {@code token} as a bearer token (401 otherwise); with no token configured the endpoint answers 404 (off).
     */
    public static SearchEndpoint start(SearchIndex index, String host, int port, int maxResults,
            Optional<BearerToken> token) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 64);
        ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
            Thread thread = new Thread(r, "changeflow-search-http");
            thread.setDaemon(true);
            return thread;
        });
        SearchEndpoint endpoint = new SearchEndpoint(index, maxResults, server, executor, token);
        server.createContext("/search/", endpoint::search);
        server.createContext("/documents/", endpoint::document);
        server.createContext("/", exchange -> endpoint.respond(exchange, 404,
                error("No such endpoint; try GET /search/tasks?q=...")));
        server.setExecutor(executor);
        server.start();
        return endpoint;
    }

    /** The base URL, such as {@code http://127.0.0.1:8084}. */
    public URI uri() {
        InetSocketAddress address = server.getAddress();
        return URI.create("http://" + address.getHostString() + ":" + address.getPort());
    }

    private void search(HttpExchange exchange) throws IOException {
        handle(exchange, () -> {
            String rest = exchange.getRequestURI().getPath().substring("/search/".length());
            Optional<DocumentType> type = DocumentType.ofTable(rest);
            if (type.isEmpty()) {
                return new Response(404, error("No document type '" + rest + "'; use /search/tasks or "
                        + "/search/projects"));
            }
            Map<String, String> params = params(exchange.getRequestURI());
            String query = params.get("q");
            if (query == null || query.isBlank()) {
                return new Response(400, error("Give a query: ?q=..."));
            }
            int limit;
            try {
                limit = Math.min(maxResults, Integer.parseInt(params.getOrDefault("limit", "" + DEFAULT_LIMIT)));
            } catch (NumberFormatException e) {
                return new Response(400, error("limit must be a number"));
            }
            if (limit < 0) {
                return new Response(400, error("limit must not be negative"));
            }
            SearchHits hits = index.search(type.get(), query, limit);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("type", type.get().table());
            body.put("query", query);
            body.put("total", hits.total());
            body.put("hits", hits.hits().stream().map(hit -> {
                Map<String, Object> h = new LinkedHashMap<>();
                h.put("id", hit.document().id());
                h.put("score", hit.score());
                h.put("version", Long.toUnsignedString(hit.document().version()));
                h.put("document", hit.document().fields());
                return h;
            }).toList());
            return new Response(200, body);
        });
    }

    private void document(HttpExchange exchange) throws IOException {
        handle(exchange, () -> {
            String[] parts = exchange.getRequestURI().getPath().substring("/documents/".length()).split("/", 2);
            Optional<DocumentType> type = DocumentType.ofTable(parts[0]);
            if (type.isEmpty() || parts.length < 2 || parts[1].isEmpty()) {
                return new Response(404, error("Use /documents/tasks/{id} or /documents/projects/{id}"));
            }
            String id = URLDecoder.decode(parts[1], StandardCharsets.UTF_8);
            StoredDocument stored = index.get(type.get(), List.of(id)).get(id);
            if (stored == null) {
                return new Response(404, error("No " + type.get().table() + " document " + id));
            }
            IndexedDocument document = stored.document();
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("id", document.id());
            body.put("version", Long.toUnsignedString(document.version()));
            body.put("deleted", document.deleted());
            body.put("document", document.fields());
            return new Response(200, body);
        });
    }

    private void handle(HttpExchange exchange, Handler handler) throws IOException {
        Response response;
        Optional<BearerToken.Refusal> refusal = BearerToken.refusal(token,
                exchange.getRequestHeaders().getFirst("Authorization"), "search");
        if (refusal.isPresent()) {
            if (refusal.get().status() == 401) {
                exchange.getResponseHeaders().set("WWW-Authenticate", BearerToken.Refusal.CHALLENGE);
            }
            response = new Response(refusal.get().status(), error(refusal.get().message()));
        } else if (!"GET".equals(exchange.getRequestMethod())) {
            response = new Response(405, error("Only GET"));
        } else {
            try {
                response = handler.handle();
            } catch (InvalidQueryException e) {
                response = new Response(400, error(e.getMessage()));
            } catch (RuntimeException e) {
                if (index.isOutage(e)) {
                    LOG.warn("Search failed, the engine is unavailable: {}", e.toString());
                    response = new Response(503, error("The search engine is unavailable: " + e.getMessage()));
                } else {
                    LOG.error("Search failed", e);
                    response = new Response(500, error("Search failed: " + e));
                }
            }
        }
        respond(exchange, response.status(), response.body());
    }

    private void respond(HttpExchange exchange, int status, Object body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static Map<String, String> params(URI uri) {
        Map<String, String> params = new LinkedHashMap<>();
        String raw = uri.getRawQuery();
        if (raw == null) {
            return params;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            params.putIfAbsent(name, value);
        }
        return params;
    }

    private static Map<String, Object> error(String message) {
        return Map.of("error", message);
    }

    @Override
    public void close() {
        server.stop(1);
        executor.shutdown();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private record Response(int status, Object body) {
    }

    @FunctionalInterface
    private interface Handler {
        Response handle() throws IOException;
    }
}
