package dev.changeflow.capture.snapshot;

import dev.changeflow.config.Settings;
import dev.changeflow.router.service.AdminRoute;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The backfill actions of {@link Backfills} on the admin API of a process hosting capture:
 * <ul>
 *   <li>{@code GET /snapshots}: every backfill recorded, newest first, with its state, rows, chunks and ETA;</li>
 *   <li>{@code POST /snapshots?table=tasks[&where=...][&chunk_size=N]}: starts one; 202 with the request;</li>
 *   <li>{@code POST /snapshots/{table}/stop}: stops the active backfill of a table.</li>
 * </ul>
 * A refused request answers 400 (bad input) or 409 (conflicts with a backfill in progress, or nothing to stop), with
 * the one-line reason, and changes nothing.
 */
public final class BackfillAdminRoutes {
    private BackfillAdminRoutes() {
    }

    public static List<AdminRoute> of(Settings settings) {
        return List.of(
                AdminRoute.of("GET", "/snapshots", request -> AdminRoute.Response.ok(
                        Backfills.from(settings).status().stream().map(BackfillAdminRoutes::json).toList())),
                AdminRoute.of("POST", "/snapshots", request -> refusable(() -> {
                    String table = request.query().get("table");
                    if (table == null) {
                        return AdminRoute.Response.error(400, "table is required, e.g. ?table=tasks");
                    }
                    String chunk = request.query().get("chunk_size");
                    OptionalInt chunkSize;
                    try {
                        chunkSize = chunk == null ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(chunk));
                    } catch (NumberFormatException e) {
                        return AdminRoute.Response.error(400, "chunk_size must be a number from 1 to 1000000, not "
                                + chunk);
                    }
                    BackfillStatus started = Backfills.from(settings).start(table,
                            Optional.ofNullable(request.query().get("where")), chunkSize);
                    return new AdminRoute.Response(202, json(started));
                })),
                AdminRoute.of("POST", "/snapshots/([a-z0-9_.]{1,127})/stop", request -> refusable(() ->
                        AdminRoute.Response.ok(Backfills.from(settings).stop(request.pathParameters().get(0)).stream()
                                .map(BackfillAdminRoutes::json).toList()))));
    }

    private interface Action {
        AdminRoute.Response run() throws Exception;
    }

    private static AdminRoute.Response refusable(Action action) throws Exception {
        try {
            return action.run();
        } catch (BackfillRefusedException e) {
            return AdminRoute.Response.error(e.conflict() ? 409 : 400, e.getMessage());
        }
    }

    /** A backfill as JSON: snake_case fields, durations in seconds. */
    public static Map<String, Object> json(BackfillStatus b) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", b.id());
        out.put("table", b.table());
        out.put("where", b.condition());
        out.put("chunk_size", b.chunkSize());
        out.put("state", b.state().name().toLowerCase(java.util.Locale.ROOT));
        out.put("rows_estimate", b.rowsEstimate());
        out.put("rows_done", b.rowsDone());
        out.put("chunks_done", b.chunksDone());
        out.put("requested_at", b.requestedAt().toString());
        out.put("eta_seconds", b.eta() == null ? null : b.eta().toSeconds());
        return out;
    }
}
