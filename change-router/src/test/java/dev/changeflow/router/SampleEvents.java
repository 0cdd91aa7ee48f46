package dev.changeflow.router;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Realistic events of each op on {@code tasks}, as capture makes them. */
final class SampleEvents {
    static final String TASK_ID = "3f2c9a4e-0b1d-4c6e-9f8a-2d7b5e1c4a3f";
    static final Source STREAMED = new Source(97_500_059_720L, 771, Instant.parse("2026-11-21T04:53:17.123456Z"), false);
    static final Source SNAPSHOT = new Source(97_400_000_000L, 760, Instant.parse("2026-11-21T04:50:00.000001Z"), true);

    private SampleEvents() {
    }

    static Map<String, Object> key() {
        return Map.of("id", TASK_ID);
    }

    /** A row of {@code app.tasks}, with {@code status} and {@code description} as given. */
    static Map<String, Object> task(String status, String description) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", TASK_ID);
        row.put("project_id", "9b1e4c2a-7d3f-4a5b-8c6d-1e2f3a4b5c6d");
        row.put("title", "Write the change event contract");
        row.put("description", description);
        row.put("status", status);
        row.put("priority", 2L);
        row.put("assignee", null);
        row.put("due_date", "2026-12-01");
        row.put("created_at", "2026-11-20T09:00:00.000000Z");
        row.put("updated_at", status.equals("done") ? "2026-11-21T04:53:17.123456Z" : "2026-11-20T09:00:00.000000Z");
        return row;
    }

    /** A row with a value of every supported type. */
    static Map<String, Object> everyType() {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", 1L);
        row.put("name", "Überprüfung 🚀");
        row.put("nothing", null);
        row.put("flag", true);
        row.put("count", Long.MAX_VALUE);
        row.put("price", new BigDecimal("12.50"));
        row.put("ratio", 0.25);
        row.put("labels", List.of("cdc", "docs"));
        row.put("matrix", List.of(List.of(1L, 2L), List.of(3L)));
        return row;
    }

    static ChangeEvent create() {
        return ChangeEvent.of(Op.CREATE, "tasks", key(), null, task("in_progress", "First draft"), STREAMED);
    }

    static ChangeEvent update() {
        return ChangeEvent.of(Op.UPDATE, "tasks", key(), task("in_progress", "First draft"), task("done", "Final text"),
                STREAMED);
    }

    static ChangeEvent delete() {
        return ChangeEvent.of(Op.DELETE, "tasks", key(), task("done", "Final text"), null, STREAMED);
    }

    static ChangeEvent read() {
        return ChangeEvent.of(Op.READ, "tasks", key(), null, task("in_progress", "First draft"), SNAPSHOT);
    }

    static List<ChangeEvent> all() {
        return List.of(create(), update(), delete(), read());
    }
}
