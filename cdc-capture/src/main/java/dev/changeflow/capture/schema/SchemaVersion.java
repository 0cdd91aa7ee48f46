package dev.changeflow.capture.schema;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One registered version of a table's row schema, as capture's schema topic keeps it.
 *
 * @param subject the registry subject, {@code <topic>-value}
 * @param version the version within the subject, from 1
 * @param id the schema's id, unique across subjects, from 1
 * @param table the qualified table, such as {@code app.tasks}
 * @param schema the JSON Schema text ({@link dev.changeflow.router.schema.TableShape#toJsonSchema()})
 * @param compatibility the table's compatibility mode when this version was registered
 * @param breaking the differences from the version published before it that break that mode, one line each;
 *     empty for a compatible change and for the first version
 * @param registeredAt when capture registered it
 */
public record SchemaVersion(String subject, int version, int id, String table, String schema, String compatibility,
        List<String> breaking, Instant registeredAt) {

    public SchemaVersion {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(schema, "schema");
        breaking = breaking == null ? List.of() : List.copyOf(breaking);
    }

    /** Whether this version broke its table's compatibility mode when it was registered. */
    public boolean compatible() {
        return breaking.isEmpty();
    }
}
