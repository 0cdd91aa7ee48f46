package dev.changeflow.invalidator;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import dev.changeflow.invalidator.internal.InvalidationRules;
import dev.changeflow.invalidator.internal.KeyTemplate;
import dev.changeflow.invalidator.internal.RulesFile;
import dev.changeflow.invalidator.internal.RulesFile.InvalidRulesException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The cache invalidator's rules, read the way the service reads them, for tools that check a migration against them
 * (such as {@code changeflow schema check}: a migration that drops or renames a column a template names breaks that
 * template, which then yields no key).
 *
 * <pre>{@code
 * CacheRules rules = CacheRules.load(Settings.load());
 * rules.columnsByTemplate().get("tasks");   // {"task:{id}"=[id], "project:{project_id}:tasks"=[project_id]}
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class CacheRules {
    private final InvalidationRules rules;
    private final Map<String, Map<String, Set<String>>> columnsByTemplate;

    private CacheRules(InvalidationRules rules) {
        this.rules = rules;
        Map<String, Map<String, Set<String>>> tables = new LinkedHashMap<>();
        rules.templates().forEach((table, templates) -> {
            Map<String, Set<String>> columns = new LinkedHashMap<>();
            for (KeyTemplate template : templates) {
                columns.put(template.toString(), template.columns());
            }
            tables.put(table, Collections.unmodifiableMap(columns));
        });
        this.columnsByTemplate = Collections.unmodifiableMap(tables);
    }

    /**
     * Reads the rules the cache invalidator would run with under {@code settings}: the file named by
     * {@link InvalidatorSettings#RULES_FILE} ({@code CHANGEFLOW_INVALIDATOR_RULES_FILE}), or, when it is unset, the
     * default rules ({@value InvalidatorSettings#DEFAULT_RULES_RESOURCE}). Checks their syntax only: whether their
     * tables and columns exist is checked by {@link InvalidatorService#create} against Postgres, and is what a caller
     * of {@link #columnsByTemplate} checks for itself. Connects to nothing.
     *
     * @return never null
     * @throws ConfigException one line naming the setting, the file and what is wrong (no such file, not YAML, a
     *     template that does not parse...), as the service says it at startup
     * @throws NullPointerException if {@code settings} is null
     */
    public static CacheRules load(Settings settings) {
        Objects.requireNonNull(settings, "settings");
        Optional<String> file = settings.find(InvalidatorSettings.RULES_FILE);
        try {
            return new CacheRules(file.isPresent() ? RulesFile.read(Path.of(file.get()))
                    : RulesFile.readResource(InvalidatorSettings.DEFAULT_RULES_RESOURCE));
        } catch (InvalidRulesException e) {
            throw problem(settings, e.getMessage());
        }
    }

    /** Where the rules come from, for messages: the file's path as configured, or {@code classpath:<resource>}. */
    public String source() {
        return rules.source();
    }

    /**
     * Per table (a bare name in schema {@code app}, such as {@code tasks}), in file order: per key template, as
     * written in the file (such as {@code project:{project_id}:tasks}), in file order, the columns it names, in order
     * of first appearance. Every table has at least one template and every template at least one column. A
     * template whose column is missing from the table's rows yields no key.
     *
     * @return never null; unmodifiable at every level
     */
    public Map<String, Map<String, Set<String>>> columnsByTemplate() {
        return columnsByTemplate;
    }

    /** The rules, for the service. */
    InvalidationRules rules() {
        return rules;
    }

    /** A problem with the rules, as one line naming {@link InvalidatorSettings#RULES_FILE} and its value. */
    static ConfigException problem(Settings settings, String problem) {
        return ConfigException.unusable(InvalidatorSettings.RULES_FILE,
                settings.raw(InvalidatorSettings.RULES_FILE).orElse(null), problem);
    }

}
