package dev.changeflow.invalidator.internal;

import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.Op;
import dev.changeflow.router.Source;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** Change events as capture would publish them, for unit tests. */
final class Events {
    private Events() {
    }

    static Map<String, Object> task(String id, String project, String title) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", id);
        row.put("project_id", project);
        row.put("title", title);
        return row;
    }

    static ChangeEvent of(Op op, Map<String, Object> before, Map<String, Object> after) {
        Map<String, Object> row = after != null ? after : before;
        return ChangeEvent.of(op, "tasks", Map.of("id", row.get("id")), before, after,
                new Source(1000L, 7L, Instant.parse("2026-11-21T10:00:00Z"), false));
    }
}
