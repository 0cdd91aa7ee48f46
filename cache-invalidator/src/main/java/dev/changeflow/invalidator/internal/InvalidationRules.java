package dev.changeflow.invalidator.internal;

import dev.changeflow.router.ChangeEvent;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Which Redis keys a change makes stale: per table, the key templates to evaluate. Immutable and thread-safe.
 *
 * @param source where the rules come from, for messages: a file path or {@code classpath:<resource>}
 * @param templates per bare table name, its templates in file order; at least one table, each with at least one
 *     template, no template twice
 */
public record InvalidationRules(String source, Map<String, List<KeyTemplate>> templates) {

    /**
     * Copies the map, keeping its order.
     *
     * @throws IllegalArgumentException if there is no table, a table has no template or the same template twice
     */
    public InvalidationRules {
        Objects.requireNonNull(source, "source");
        if (templates.isEmpty()) {
            throw new IllegalArgumentException("no table has rules");
        }
        Map<String, List<KeyTemplate>> copy = new LinkedHashMap<>();
        templates.forEach((table, list) -> {
            if (list.isEmpty()) {
                throw new IllegalArgumentException("table " + table + " has no key template");
            }
            if (new LinkedHashSet<>(list).size() != list.size()) {
                throw new IllegalArgumentException("table " + table + " lists a key template twice");
            }
            copy.put(table, List.copyOf(list));
        });
        templates = java.util.Collections.unmodifiableMap(copy);
    }

    /** The tables that have rules, in file order. */
    public Set<String> tables() {
        return templates.keySet();
    }

    /**
     * The keys {@code event} makes stale: every template of its table evaluated against the before image and against
     * the after image, so that a row moved from one parent to another invalidates both parents' keys. An image that
     * is absent, lacks a column a template names or has it null gives no key for that template. Keys appear once, in
     * template order, before-image key first.
     *
     * @return never null; empty if the table has no rules
     */
    public Set<String> keysFor(ChangeEvent event) {
        List<KeyTemplate> list = templates.get(event.table());
        if (list == null) {
            return Set.of();
        }
        Set<String> keys = new LinkedHashSet<>();
        for (KeyTemplate template : list) {
            template.render(event.before()).ifPresent(keys::add);
            template.render(event.after()).ifPresent(keys::add);
        }
        return keys;
    }

    /** The distinct keys of all {@code events}, in order of first appearance. Never null. */
    public Set<String> keysFor(Collection<ChangeEvent> events) {
        Set<String> keys = new LinkedHashSet<>();
        for (ChangeEvent event : events) {
            keys.addAll(keysFor(event));
        }
        return keys;
    }

    /** How many templates there are, over all tables. */
    public int templateCount() {
        return templates.values().stream().mapToInt(List::size).sum();
    }
}
