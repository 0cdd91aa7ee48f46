package dev.changeflow.invalidator.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.Op;
import dev.changeflow.router.Source;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

class RulesRevalidatorTest {
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final List<List<ChangeEvent>> handled = new ArrayList<>();
    private final RulesRevalidator revalidator = new RulesRevalidator(
            new ObservedShapes(new InvalidationRules("/etc/changeflow/rules.yaml", Map.of("tasks",
                    List.of(KeyTemplate.parse("task:{id}"), KeyTemplate.parse("user:{assignee}:tasks"))))),
            "app", meters, events -> Mono.fromRunnable(() -> handled.add(events)));
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(RulesRevalidator.class);

    @BeforeEach
    void captureLog() {
        log.start();
        logger.addAppender(log);
    }

    @AfterEach
    void releaseLog() {
        logger.detachAppender(log);
    }

    private static ChangeEvent update(long lsn, String... columns) {
        Map<String, Object> row = new LinkedHashMap<>();
        for (String column : columns) {
            row.put(column, column + "-value");
        }
        return ChangeEvent.of(Op.UPDATE, "tasks", Map.of("id", "t1"), row, row,
                new Source(lsn, 7L, Instant.parse("2026-11-21T10:00:00Z"), false));
    }

    private double gauge(String template) {
        return meters.get(InvalidatorMetrics.RULES_BROKEN).tags("table", "tasks", "template", template).gauge()
                .value();
    }

    private List<String> lines(Level level) {
        return log.list.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void everyTemplateHasABrokenRuleGaugeAtZeroFromTheStart() {
        assertThat(gauge("task:{id}")).isZero();
        assertThat(gauge("user:{assignee}:tasks")).isZero();
    }

    @Test
    void aDroppedColumnSetsTheGaugeOfItsTemplateAndLogsOneWarningNamingTableTemplateAndColumn() {
        revalidator.handle(List.of(update(100, "id", "title", "assignee"))).block();
        revalidator.handle(List.of(update(200, "id", "title"), update(201, "id", "title"))).block();

        assertThat(gauge("user:{assignee}:tasks")).isEqualTo(1.0);
        assertThat(gauge("task:{id}")).isZero();
        assertThat(lines(Level.WARN)).containsExactly("Cache rule broken: table app.tasks, template "
                + "\"user:{assignee}:tasks\": column assignee is missing from the table's rows (its columns are now "
                + "id, title); this template yields no key until the column is back or the rules "
                + "(/etc/changeflow/rules.yaml) are fixed and the invalidator restarted; the other templates keep "
                + "invalidating");
        assertThat(lines(Level.INFO)).containsExactly("Table app.tasks changed shape (columns added: none; removed: "
                + "assignee); its 2 key templates re-validated, 1 broken");
    }

    @Test
    void aColumnBackResetsTheGaugeWithAnInfoLine() {
        revalidator.handle(List.of(update(100, "id", "assignee"))).block();
        revalidator.handle(List.of(update(200, "id"))).block();

        revalidator.handle(List.of(update(300, "id", "assignee"))).block();

        assertThat(gauge("user:{assignee}:tasks")).isZero();
        assertThat(lines(Level.INFO)).contains("Cache rule works again: table app.tasks, template "
                + "\"user:{assignee}:tasks\": every column it names is in the table's rows again");
        assertThat(lines(Level.WARN)).hasSize(1);
    }

    @Test
    void everyBatchIsHandedOnWhetherOrNotARuleIsBroken() {
        List<ChangeEvent> first = List.of(update(100, "id", "assignee"));
        List<ChangeEvent> second = List.of(update(200, "id"));

        revalidator.handle(first).block();
        revalidator.handle(second).block();

        assertThat(handled).containsExactly(first, second);
    }
}
