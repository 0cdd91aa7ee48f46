package dev.changeflow.router.schema;

import java.util.Locale;
import java.util.Objects;

/**
 * One column of a table's row shape, as the Postgres catalog describes it.
 *
 * @param name the column name; never blank
 * @param type the Postgres type name as {@code pg_type.typname} spells it, lowercase: {@code int4}, {@code varchar},
 *     {@code timestamptz}, {@code _text} for {@code text[]}; never blank
 * @param length the declared length of a {@code varchar}/{@code bpchar}, or the precision of a {@code numeric};
 *     null when the type has none (or none was declared)
 * @param scale the scale of a {@code numeric} with a declared precision, else null
 * @param nullable whether the column accepts NULL
 * @param defaultValue the column's default as Postgres prints it ({@code 'todo'::text}, {@code now()}), or null
 */
public record ColumnShape(String name, String type, Integer length, Integer scale, boolean nullable,
        String defaultValue) {

    public ColumnShape {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        if (name.isBlank() || type.isBlank()) {
            throw new IllegalArgumentException("a column needs a name and a type: '" + name + "' '" + type + "'");
        }
        type = type.toLowerCase(Locale.ROOT);
    }

    /** Whether a row written before this column existed can be read with it: it is nullable or has a default. */
    public boolean optional() {
        return nullable || defaultValue != null;
    }

    /** The type as SQL spells it, for messages: {@code varchar(200)}, {@code numeric(10,2)}, {@code text[]}. */
    public String sqlType() {
        String base = type.startsWith("_") ? type.substring(1) + "[]" : type;
        if (length == null) {
            return base;
        }
        return base.replace("[]", "") + "(" + length + (scale == null ? "" : "," + scale) + ")"
                + (type.startsWith("_") ? "[]" : "");
    }
}
