package dev.changeflow.router;

import java.util.Objects;

/**
 * Names the version of a table's row shape an event was written with: the schema registry subject of its topic
 * ({@code <topic>-value}), the version within the subject (1, 2, ...) and the registry's id of that schema. Look the
 * schema up with the Confluent Schema Registry API: {@code GET /subjects/{subject}/versions/{version}} or
 * {@code GET /schemas/ids/{id}} (see docs/change-event.md, Row schemas).
 *
 * @param subject the registry subject, for example {@code cdc.tasks-changes-value}; never blank
 * @param version the version within the subject, 1 or more
 * @param id the registry's id of the schema, 1 or more
 */
public record RowSchemaRef(String subject, int version, int id) {

    public RowSchemaRef {
        Objects.requireNonNull(subject, "subject");
        if (subject.isBlank()) {
            throw new IllegalArgumentException("rowSchema.subject must not be blank");
        }
        if (version < 1 || id < 1) {
            throw new IllegalArgumentException("rowSchema.version and rowSchema.id must be 1 or more: " + version
                    + ", " + id);
        }
    }

    /** The registry subject of the values of {@code topic}: {@code <topic>-value}, Confluent's TopicNameStrategy. */
    public static String subjectOf(String topic) {
        return topic + "-value";
    }
}
