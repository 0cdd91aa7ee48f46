package dev.changeflow.router.schema;

import java.util.Objects;

/**
 * One difference between two shapes of a table, and which readers it breaks.
 *
 * @param kind what changed
 * @param column the column it concerns (the new name of a renamed one), or null for the primary key
 * @param description one line for people, such as {@code column priority retyped int2 -> text}
 * @param breaksBackward whether readers of the new shape can no longer read events written with the old one
 * @param breaksForward whether readers of the old shape can no longer read events written with the new one
 */
public record ShapeChange(Kind kind, String column, String description, boolean breaksBackward,
        boolean breaksForward) {

    /** The kinds of difference. */
    public enum Kind {
        COLUMN_ADDED, COLUMN_DROPPED, COLUMN_RENAMED, TYPE_CHANGED, NULLABILITY_CHANGED, DEFAULT_CHANGED,
        PRIMARY_KEY_CHANGED
    }

    public ShapeChange {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(description, "description");
    }

    /** Whether this difference breaks {@code mode}. */
    public boolean breaks(CompatibilityMode mode) {
        return mode.isBrokenBy(breaksBackward, breaksForward);
    }
}
