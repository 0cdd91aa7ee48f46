package dev.changeflow.router.schema;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Compares two shapes of one table and decides, column by column, what each difference breaks. Pure and
 * thread-safe.
 *
 * <p>The rules, for row images that always carry every column (a reader of the new shape reading old events checks
 * "backward", a reader of the old shape reading new events checks "forward"):
 * <ul>
 *   <li>a column added breaks backward unless it is nullable or has a default (old events lack it);</li>
 *   <li>a column dropped breaks forward unless it was nullable or had a default (old readers require it);</li>
 *   <li>a column renamed is both at once: its old name dropped, its new name added;</li>
 *   <li>a type change is fine in the direction it widens ({@code int2 -> int4 -> int8 -> numeric},
 *       {@code float4 -> float8}, {@code varchar(n) -> varchar(m > n) -> text}, any string-valued type
 *       {@code -> text}) and breaks the other; any other type change breaks both;</li>
 *   <li>{@code NOT NULL} added breaks backward (old events may hold null), removed breaks forward;</li>
 *   <li>a default added, changed or removed breaks nothing by itself;</li>
 *   <li>a different primary key breaks both: record keys, partitions and per-row order change.</li>
 * </ul>
 */
public final class SchemaCompatibility {

    /** Integer types by width, each readable as every later one. */
    private static final List<String> INTEGERS = List.of("int2", "int4", "int8");
    /** Decimal digits each integer type may need. */
    private static final Map<String, Integer> INTEGER_DIGITS = Map.of("int2", 5, "int4", 10, "int8", 19);
    /** Types whose values are JSON strings that a {@code text} column holds as they are. */
    private static final Set<String> STRING_VALUED = Set.of("text", "varchar", "bpchar", "uuid", "date",
            "timestamptz", "timestamp", "time", "timetz", "json", "jsonb", "name", "citext", "inet", "cidr",
            "macaddr", "interval", "xml");

    private SchemaCompatibility() {
    }

    /**
     * The differences from {@code previous} to {@code next}, in column order. A column whose name is gone and a new
     * column at the same position with the same type are reported as a rename only when {@code renames} maps the
     * old name to the new one (the catalog knows it; an event stream does not), else as a drop and an add.
     *
     * @param renames old column name to new column name, for columns known to be renamed; may be empty
     */
    public static List<ShapeChange> differences(TableShape previous, TableShape next, Map<String, String> renames) {
        Objects.requireNonNull(previous, "previous");
        Objects.requireNonNull(next, "next");
        List<ShapeChange> changes = new ArrayList<>();
        Set<String> renamedTo = Set.copyOf(renames.values());
        for (ColumnShape old : previous.columns()) {
            String newName = renames.getOrDefault(old.name(), old.name());
            var now = next.column(newName);
            if (now.isEmpty()) {
                changes.add(new ShapeChange(ShapeChange.Kind.COLUMN_DROPPED, old.name(), "column " + old.name()
                        + " (" + old.sqlType() + ") dropped", false, !old.optional()));
                continue;
            }
            if (!newName.equals(old.name())) {
                // Readers of either shape look for a name the other's events lack.
                changes.add(new ShapeChange(ShapeChange.Kind.COLUMN_RENAMED, newName, "column " + old.name()
                        + " renamed to " + newName, !now.get().optional(), !old.optional()));
            }
            compare(old, now.get(), changes);
        }
        for (ColumnShape added : next.columns()) {
            if (previous.column(added.name()).isEmpty() && !renamedTo.contains(added.name())) {
                changes.add(new ShapeChange(ShapeChange.Kind.COLUMN_ADDED, added.name(), "column " + added.name()
                        + " (" + added.sqlType() + (added.nullable() ? "" : " NOT NULL")
                        + (added.defaultValue() == null ? "" : " DEFAULT " + added.defaultValue()) + ") added",
                        !added.optional(), false));
            }
        }
        List<String> renamedKey = previous.primaryKey().stream().map(k -> renames.getOrDefault(k, k)).toList();
        if (!renamedKey.equals(next.primaryKey())) {
            changes.add(new ShapeChange(ShapeChange.Kind.PRIMARY_KEY_CHANGED, null, "primary key changed from "
                    + previous.primaryKey() + " to " + next.primaryKey(), true, true));
        }
        return List.copyOf(changes);
    }

    /** {@link #differences} without known renames. */
    public static List<ShapeChange> differences(TableShape previous, TableShape next) {
        return differences(previous, next, Map.of());
    }

    /** The differences that break {@code mode}: empty means {@code next} is compatible with {@code previous}. */
    public static List<ShapeChange> breaking(TableShape previous, TableShape next, CompatibilityMode mode) {
        return differences(previous, next).stream().filter(c -> c.breaks(mode)).toList();
    }

    private static void compare(ColumnShape old, ColumnShape now, List<ShapeChange> changes) {
        String name = now.name();
        if (!old.type().equals(now.type()) || !Objects.equals(old.length(), now.length())
                || !Objects.equals(old.scale(), now.scale())) {
            changes.add(new ShapeChange(ShapeChange.Kind.TYPE_CHANGED, name, "column " + name + " retyped "
                    + old.sqlType() + " -> " + now.sqlType(), !widens(old, now), !widens(now, old)));
        }
        if (old.nullable() != now.nullable()) {
            changes.add(new ShapeChange(ShapeChange.Kind.NULLABILITY_CHANGED, name, "column " + name
                    + (now.nullable() ? " made nullable (NOT NULL dropped)" : " made NOT NULL"),
                    !now.nullable(), now.nullable()));
        }
        if (!Objects.equals(old.defaultValue(), now.defaultValue())) {
            changes.add(new ShapeChange(ShapeChange.Kind.DEFAULT_CHANGED, name, "column " + name + " default "
                    + old.defaultValue() + " -> " + now.defaultValue(), false, false));
        }
    }

    /** Whether every value a column of type {@code from} holds is a valid value of type {@code to}. */
    static boolean widens(ColumnShape from, ColumnShape to) {
        String a = from.type();
        String b = to.type();
        if (a.startsWith("_") || b.startsWith("_")) {
            return a.startsWith("_") && b.startsWith("_")
                    && widens(element(from), element(to));
        }
        if (a.equals(b)) {
            return switch (a) {
                case "varchar", "bpchar" -> to.length() == null
                        || (from.length() != null && from.length() <= to.length());
                case "numeric" -> to.length() == null || (from.length() != null
                        && nz(to.scale()) >= nz(from.scale())
                        && to.length() - nz(to.scale()) >= from.length() - nz(from.scale()));
                default -> true;
            };
        }
        if (INTEGERS.contains(a) && INTEGERS.contains(b)) {
            return INTEGERS.indexOf(a) <= INTEGERS.indexOf(b);
        }
        if (INTEGERS.contains(a) && b.equals("numeric")) {
            return to.length() == null || to.length() - nz(to.scale()) >= INTEGER_DIGITS.get(a);
        }
        if (a.equals("float4") && b.equals("float8")) {
            return true;
        }
        if (b.equals("text") || (b.equals("varchar") && to.length() == null)) {
            return STRING_VALUED.contains(a);
        }
        return false;
    }

    private static ColumnShape element(ColumnShape array) {
        return new ColumnShape(array.name(), array.type().substring(1), array.length(), array.scale(),
                array.nullable(), null);
    }

    private static int nz(Integer value) {
        return value == null ? 0 : value;
    }
}
