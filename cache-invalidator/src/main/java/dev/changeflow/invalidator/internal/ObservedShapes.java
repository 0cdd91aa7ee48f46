package dev.changeflow.invalidator.internal;

import dev.changeflow.router.ChangeEvent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The shape of each table as its change events show it, and which key templates that shape breaks: re-validates the
 * rules of a table whenever the set of columns of its rows changes (a migration added, dropped or renamed a column
 * while the pipeline streams). A template is broken while a column it names is missing from the table's rows: it
 * then yields no key ({@link KeyTemplate#render}), while the table's other templates keep theirs.
 *
 * <p>The shape of an event is the key set of {@link ChangeEvent#row()}: the after image, or the before image of a
 * delete, so an update that straddles a DDL counts with its new shape. Most events have the shape last seen for
 * their table; for them {@link #observe} costs one set comparison and takes no lock.
 *
 * <p>Events of different partitions are handled concurrently and in no order relative to each other, so around a
 * DDL some partitions still deliver rows of the old shape while others deliver the new one. To keep a table from
 * flapping between the two, a shape different from the current one is taken only from an event whose LSN is not
 * below the LSN of the current shape; an older row of another shape is a leftover and is ignored.
 *
 * <p>The shapes start from the tables' columns as the startup check read them from the database, at the WAL position
 * read just before: a backlog written before a migration that added a column a template names (the rules were
 * updated with it and the service restarted) is older than that and breaks nothing. Without a starting point, the
 * first event of each table sets its shape, and until then every template counts as working.
 *
 * <p>Thread-safe. Never throws for a valid event.
 */
public final class ObservedShapes {
    private final InvalidationRules rules;
    private final Map<String, Shape> shapes = new ConcurrentHashMap<>();

    /**
     * A table's shape as taken from one event.
     *
     * @param missing per template of the table that is broken, the columns it names that {@code columns} lacks (in
     *     the template's order); templates that work are absent
     */
    private record Shape(Set<String> columns, long lsn, Map<KeyTemplate, Set<String>> missing) {
    }

    /**
     * A template that broke, works again, or stays broken for other columns.
     *
     * @param missing the columns the template names that the table's rows lack now; empty if it works again
     */
    public record RuleChange(KeyTemplate template, Set<String> missing) {
        /** Whether the template yields no key from now on. */
        public boolean broken() {
            return !missing.isEmpty();
        }
    }

    /**
     * A table whose rows changed shape.
     *
     * @param table the bare table name
     * @param before the columns of the shape seen before, in row order; empty for the first event of the table
     * @param after the columns of the rows now, in row order
     * @param rules the templates whose state changed, in file order; often empty (a column no template names)
     */
    public record ShapeChange(String table, Set<String> before, Set<String> after, List<RuleChange> rules) {
        /** Whether this is the first shape seen for the table since startup. */
        public boolean first() {
            return before.isEmpty();
        }
    }

    /** Shapes that the first event of each table sets. */
    public ObservedShapes(InvalidationRules rules) {
        this.rules = Objects.requireNonNull(rules, "rules");
    }

    /**
     * Shapes that start from the tables' columns in the database.
     *
     * @param columns per table, its columns (as {@link RulesValidator#columnsOf} read them); tables without rules
     *     are left out, tables with rules but absent here start as in {@link #ObservedShapes(InvalidationRules)}
     * @param lsn the WAL position at which the columns were read, or just before
     */
    public ObservedShapes(InvalidationRules rules, Map<String, ? extends Collection<String>> columns, long lsn) {
        this(rules);
        rules.templates().forEach((table, templates) -> {
            Collection<String> names = columns.get(table);
            if (names != null) {
                Set<String> shape = Collections.unmodifiableSet(new LinkedHashSet<>(names));
                shapes.put(table, new Shape(shape, lsn, missing(templates, shape)));
            }
        });
    }

    /** The rules whose templates are checked. */
    public InvalidationRules rules() {
        return rules;
    }

    /**
     * Takes note of {@code event}'s shape.
     *
     * @return the table's change of shape and its consequences for the rules; empty if the shape is the one last
     *     seen, if the table has no rules, or if the event is a leftover of an older shape (see the class comment)
     */
    public Optional<ShapeChange> observe(ChangeEvent event) {
        List<KeyTemplate> templates = rules.templates().get(event.table());
        Map<String, Object> row = event.row();
        if (templates == null || row == null) {
            return Optional.empty();
        }
        Set<String> columns = row.keySet();
        Shape last = shapes.get(event.table());
        if (last != null && last.columns().equals(columns)) {
            return Optional.empty();
        }
        return revalidate(event.table(), templates, columns, event.source().lsn());
    }

    /** Whether {@code template} of {@code table} is broken by the table's current shape. */
    public boolean isBroken(String table, KeyTemplate template) {
        Shape shape = shapes.get(table);
        return shape != null && shape.missing().containsKey(template);
    }

    /** The columns {@code template} names that {@code columns} lacks, in the template's order; empty if none. */
    public static Set<String> missingColumns(KeyTemplate template, Set<String> columns) {
        Set<String> missing = new LinkedHashSet<>(template.columns());
        missing.removeAll(columns);
        return missing.isEmpty() ? Set.of() : Collections.unmodifiableSet(missing);
    }

    /** The rare path: a shape other than the last one. Serialized, so that two threads never both take a shape. */
    private synchronized Optional<ShapeChange> revalidate(String table, List<KeyTemplate> templates,
            Set<String> columns, long lsn) {
        Shape last = shapes.get(table);
        if (last != null && (last.columns().equals(columns) || Long.compareUnsigned(lsn, last.lsn()) < 0)) {
            return Optional.empty();
        }
        Set<String> copy = Collections.unmodifiableSet(new LinkedHashSet<>(columns));
        Map<KeyTemplate, Set<String>> missing = missing(templates, copy);
        List<RuleChange> changes = new ArrayList<>();
        for (KeyTemplate template : templates) {
            Set<String> now = missing.getOrDefault(template, Set.of());
            Set<String> before = last == null ? Set.of() : last.missing().getOrDefault(template, Set.of());
            if (!now.equals(before)) {
                changes.add(new RuleChange(template, now));
            }
        }
        shapes.put(table, new Shape(copy, lsn, missing));
        return Optional.of(new ShapeChange(table, last == null ? Set.of() : last.columns(), copy,
                List.copyOf(changes)));
    }

    /** Per broken template of {@code templates}, the columns of it that {@code columns} lacks. */
    private static Map<KeyTemplate, Set<String>> missing(List<KeyTemplate> templates, Set<String> columns) {
        Map<KeyTemplate, Set<String>> missing = new LinkedHashMap<>();
        for (KeyTemplate template : templates) {
            Set<String> lacking = missingColumns(template, columns);
            if (!lacking.isEmpty()) {
                missing.put(template, lacking);
            }
        }
        return Collections.unmodifiableMap(missing);
    }
}
