package dev.changeflow.router.service;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One endpoint of the admin API: a method, a path pattern (a regular expression whose groups are the path's
 * parameters, such as {@code /slots/([^/]+)/reset}) and what answers it. Every admin route needs the bearer token.
 */
public record AdminRoute(String method, Pattern path, Handler handler) {

    public AdminRoute {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(handler, "handler");
    }

    /** A route for {@code method} on paths matching {@code pathRegex} entirely. */
    public static AdminRoute of(String method, String pathRegex, Handler handler) {
        return new AdminRoute(method, Pattern.compile(pathRegex), handler);
    }

    /** Answers one request; an exception becomes a 500 whose body is its message. */
    @FunctionalInterface
    public interface Handler {
        Response handle(Request request) throws Exception;
    }

    /**
     * An authenticated request.
     *
     * @param pathParameters the path pattern's groups, in order
     * @param query the query string's parameters (the last value of a repeated one)
     * @param body the request body as UTF-8, empty if none
     */
    public record Request(List<String> pathParameters, Map<String, String> query, String body) {
        /** A query parameter as a boolean: true only for {@code true} (any case). */
        public boolean flag(String name) {
            return Boolean.parseBoolean(query.getOrDefault(name, "false"));
        }
    }

    /**
     * An answer: a status and a body serialised as JSON (a record, map, list or string).
     */
    public record Response(int status, Object body) {
        public static Response ok(Object body) {
            return new Response(200, body);
        }

        /** An error with a JSON body {@code {"error": message}}. */
        public static Response error(int status, String message) {
            return new Response(status, Map.of("error", message));
        }
    }
}
