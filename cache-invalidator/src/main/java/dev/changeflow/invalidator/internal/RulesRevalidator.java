package dev.changeflow.invalidator.internal;

import dev.changeflow.invalidator.internal.ObservedShapes.RuleChange;
import dev.changeflow.invalidator.internal.ObservedShapes.ShapeChange;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.subscription.BatchHandler;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Wraps the batch handler: before handing a batch on, re-validates the rules of every table whose rows changed shape
 * ({@link ObservedShapes}) and reports the templates a migration broke or that work again. A broken template yields no
 * key and is reported; nothing else changes: the batch is handled as before, the table's other templates keep
 * their keys, and no event fails or is dead-lettered because of it.
 *
 * <p>Reports: the gauge {@value InvalidatorMetrics#RULES_BROKEN}{@code {table,template}}, registered at 0 for every
 * template and 1 while the template is broken; one WARN line when a template breaks (naming the table, the template,
 * the missing columns, and that it yields no key until fixed); one INFO line when it works again; one INFO line per
 * change of a table's shape after its first event. Thread-safe; the gauges always show the current state, though
 * the log lines of two shape changes of one table handled at the same instant may come out of order.
 */
public final class RulesRevalidator implements BatchHandler {
    private static final Logger LOG = LoggerFactory.getLogger(RulesRevalidator.class);

    private final InvalidationRules rules;
    private final String schema;
    private final ObservedShapes shapes;
    private final BatchHandler next;

    /**
     * Registers a {@value InvalidatorMetrics#RULES_BROKEN} gauge for every template of {@code shapes}' rules.
     *
     * @param shapes the tables' shapes, where they start from, and the rules; used by this handler only
     * @param schema the tables' schema, for log lines
     * @param next the handler that invalidates the batch
     */
    public RulesRevalidator(ObservedShapes shapes, String schema, MeterRegistry registry, BatchHandler next) {
        this.shapes = Objects.requireNonNull(shapes, "shapes");
        this.rules = shapes.rules();
        this.schema = Objects.requireNonNull(schema, "schema");
        this.next = Objects.requireNonNull(next, "next");
        rules.templates().forEach((table, templates) -> {
            for (KeyTemplate template : templates) {
                Gauge.builder(InvalidatorMetrics.RULES_BROKEN, shapes, s -> s.isBroken(table, template) ? 1 : 0)
                        .description("1 while the key template names a column the table's rows no longer have "
                                + "(it yields no key), else 0")
                        .tags("table", table, "template", template.toString())
                        .strongReference(true)
                        .register(registry);
            }
        });
    }

    @Override
    public Mono<Void> handle(List<ChangeEvent> events) {
        return Mono.defer(() -> {
            for (ChangeEvent event : events) {
                shapes.observe(event).ifPresent(this::report);
            }
            return next.handle(events);
        });
    }

    private void report(ShapeChange change) {
        String table = schema + "." + change.table();
        if (!change.first()) {
            List<KeyTemplate> templates = rules.templates().get(change.table());
            long broken = templates.stream().filter(t -> shapes.isBroken(change.table(), t)).count();
            LOG.info("Table {} changed shape (columns added: {}; removed: {}); its {} key templates re-validated, "
                    + "{} broken", table, describe(difference(change.after(), change.before())),
                    describe(difference(change.before(), change.after())), templates.size(), broken);
        }
        for (RuleChange rule : change.rules()) {
            if (rule.broken()) {
                LOG.warn("Cache rule broken: table {}, template \"{}\": column{} {} {} missing from the table's rows "
                        + "(its columns are now {}); this template yields no key until the column is back or the "
                        + "rules ({}) are fixed and the invalidator restarted; the other templates keep invalidating",
                        table, rule.template(), rule.missing().size() == 1 ? "" : "s",
                        String.join(", ", rule.missing()), rule.missing().size() == 1 ? "is" : "are",
                        String.join(", ", change.after()), rules.source());
            } else {
                LOG.info("Cache rule works again: table {}, template \"{}\": every column it names is in the table's "
                        + "rows again", table, rule.template());
            }
        }
    }

    private static Set<String> difference(Set<String> a, Set<String> b) {
        Set<String> d = new LinkedHashSet<>(a);
        d.removeAll(b);
        return d;
    }

    private static String describe(Set<String> columns) {
        return columns.isEmpty() ? "none" : String.join(", ", columns);
    }
}
