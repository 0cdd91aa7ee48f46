package dev.changeflow.cli.internal.schema;

import dev.changeflow.router.schema.ShapeChange;
import java.util.Locale;
import java.util.Objects;

/**
 * One thing a migration does to a captured table, and whether it breaks a consumer.
 *
 * @param table the qualified table, such as {@code app.tasks}
 * @param kind what it is
 * @param column the column it concerns (for a rename, the new name, as {@link ShapeChange#column()}; for a cache
 *     rule or a search field, the column that rule or field reads), or null for the whole table
 * @param breaking whether it breaks the table's compatibility mode, a cache rule, a search field or capture
 * @param message one line for people, without the table, such as {@code search field title removed}
 */
public record SchemaFinding(String table, Kind kind, String column, boolean breaking, String message) {

    /** The kinds of finding; in JSON, their lowercase names ({@code column_renamed}). */
    public enum Kind {
        /** The shape differences of {@link ShapeChange.Kind}, judged under the table's compatibility mode. */
        COLUMN_ADDED, COLUMN_DROPPED, COLUMN_RENAMED, TYPE_CHANGED, NULLABILITY_CHANGED, DEFAULT_CHANGED,
        PRIMARY_KEY_CHANGED,
        /** A captured table that did not exist now exists. */
        TABLE_CREATED,
        /** A captured table no longer exists. */
        TABLE_DROPPED,
        /** A captured table was dropped and created again: a new table (OID), outside capture's publication. */
        TABLE_RECREATED,
        /** REPLICA IDENTITY FULL dropped (breaking), or set. */
        REPLICA_IDENTITY,
        /** A cache rule's key template names a column that is gone. */
        CACHE_RULE,
        /** A field the search documents name is gone (breaking). */
        SEARCH_FIELD,
        /** A column the indexer indexes as dynamic text is gone: no longer searchable, breaks no field. */
        SEARCHABLE_COLUMN;

        /** The name in JSON: {@code column_renamed}. */
        public String jsonName() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Kind of(ShapeChange.Kind kind) {
            return switch (kind) {
                case COLUMN_ADDED -> COLUMN_ADDED;
                case COLUMN_DROPPED -> COLUMN_DROPPED;
                case COLUMN_RENAMED -> COLUMN_RENAMED;
                case TYPE_CHANGED -> TYPE_CHANGED;
                case NULLABILITY_CHANGED -> NULLABILITY_CHANGED;
                case DEFAULT_CHANGED -> DEFAULT_CHANGED;
                case PRIMARY_KEY_CHANGED -> PRIMARY_KEY_CHANGED;
            };
        }
    }

    public SchemaFinding {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(message, "message");
    }

    /** The line printed for it: {@code BREAKING app.tasks: search field title removed} or {@code ok app.tasks: ...}. */
    public String line() {
        return (breaking ? "BREAKING " : "ok ") + table + ": " + message;
    }
}
