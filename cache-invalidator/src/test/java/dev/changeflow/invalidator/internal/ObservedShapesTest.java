package dev.changeflow.invalidator.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changeflow.invalidator.internal.ObservedShapes.RuleChange;
import dev.changeflow.invalidator.internal.ObservedShapes.ShapeChange;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.Op;
import dev.changeflow.router.Source;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ObservedShapesTest {
    private static final KeyTemplate TASK = KeyTemplate.parse("task:{id}");
    private static final KeyTemplate PROJECT_TASKS = KeyTemplate.parse("project:{project_id}:tasks");
    private static final KeyTemplate ASSIGNEE = KeyTemplate.parse("user:{assignee}:tasks:{status}");
    private static final KeyTemplate PROJECT = KeyTemplate.parse("project:{id}");

    private static final InvalidationRules RULES = new InvalidationRules("rules.yaml", Map.of(
            "tasks", List.of(TASK, PROJECT_TASKS, ASSIGNEE),
            "projects", List.of(PROJECT)));

    private final ObservedShapes shapes = new ObservedShapes(RULES);

    /** A task row with exactly {@code columns} (each with a value). */
    private static Map<String, Object> row(String... columns) {
        Map<String, Object> row = new LinkedHashMap<>();
        for (String column : columns) {
            row.put(column, column.equals("id") ? "t1" : column + "-value");
        }
        return row;
    }

    private static ChangeEvent update(long lsn, Map<String, Object> before, Map<String, Object> after) {
        return ChangeEvent.of(Op.UPDATE, "tasks", Map.of("id", "t1"), before, after,
                new Source(lsn, 7L, Instant.parse("2026-11-21T10:00:00Z"), false));
    }

    private static ChangeEvent update(long lsn, Map<String, Object> row) {
        return update(lsn, row, row);
    }

    private static ChangeEvent delete(long lsn, Map<String, Object> before) {
        return ChangeEvent.of(Op.DELETE, "tasks", Map.of("id", "t1"), before, null,
                new Source(lsn, 7L, Instant.parse("2026-11-21T10:00:00Z"), false));
    }

    private static final Map<String, Object> FULL = row("id", "project_id", "title", "status", "assignee");
    private static final Map<String, Object> WITHOUT_ASSIGNEE = row("id", "project_id", "title", "status");

    @Test
    void theFirstEventOfATableWhoseRowsHaveEveryColumnBreaksNoTemplate() {
        ShapeChange change = shapes.observe(update(100, FULL)).orElseThrow();

        assertThat(change.first()).isTrue();
        assertThat(change.after()).containsExactly("id", "project_id", "title", "status", "assignee");
        assertThat(change.rules()).isEmpty();
        assertThat(shapes.isBroken("tasks", ASSIGNEE)).isFalse();
    }

    @Test
    void eventsWithTheShapeLastSeenAreNoChange() {
        shapes.observe(update(100, FULL));

        assertThat(shapes.observe(update(101, row("id", "project_id", "title", "status", "assignee")))).isEmpty();
        assertThat(shapes.observe(update(50, FULL))).isEmpty();
    }

    @Test
    void droppingAColumnBreaksOnlyTheTemplatesThatNameIt() {
        shapes.observe(update(100, FULL));

        ShapeChange change = shapes.observe(update(200, WITHOUT_ASSIGNEE)).orElseThrow();

        assertThat(change.first()).isFalse();
        assertThat(change.before()).contains("assignee");
        assertThat(change.after()).doesNotContain("assignee");
        assertThat(change.rules()).containsExactly(new RuleChange(ASSIGNEE, Set.of("assignee")));
        assertThat(change.rules().get(0).broken()).isTrue();
        assertThat(shapes.isBroken("tasks", ASSIGNEE)).isTrue();
        assertThat(shapes.isBroken("tasks", TASK)).isFalse();
        assertThat(shapes.isBroken("tasks", PROJECT_TASKS)).isFalse();
    }

    @Test
    void aColumnThatComesBackRepairsTheTemplate() {
        shapes.observe(update(100, FULL));
        shapes.observe(update(200, WITHOUT_ASSIGNEE));

        ShapeChange change = shapes.observe(update(300, FULL)).orElseThrow();

        assertThat(change.rules()).containsExactly(new RuleChange(ASSIGNEE, Set.of()));
        assertThat(change.rules().get(0).broken()).isFalse();
        assertThat(shapes.isBroken("tasks", ASSIGNEE)).isFalse();
    }

    @Test
    void addingAColumnNoTemplateNamesChangesTheShapeButNoRule() {
        shapes.observe(update(100, FULL));

        ShapeChange change = shapes.observe(update(200, row("id", "project_id", "title", "status", "assignee",
                "sprint"))).orElseThrow();

        assertThat(change.after()).endsWith("sprint");
        assertThat(change.rules()).isEmpty();
    }

    @Test
    void renamingAColumnBreaksTheTemplateThatNamesTheOldName() {
        shapes.observe(update(100, FULL));

        ShapeChange change = shapes.observe(update(200, row("id", "project_id", "title", "status", "owner")))
                .orElseThrow();

        assertThat(change.rules()).containsExactly(new RuleChange(ASSIGNEE, Set.of("assignee")));
    }

    @Test
    void aTemplateStillBrokenForAnotherColumnIsReportedAgainWithTheColumnsMissingNow() {
        shapes.observe(update(100, FULL));
        shapes.observe(update(200, WITHOUT_ASSIGNEE));

        ShapeChange change = shapes.observe(update(300, row("id", "project_id", "title"))).orElseThrow();

        assertThat(change.rules()).containsExactly(new RuleChange(ASSIGNEE, Set.of("assignee", "status")));
        assertThat(shapes.isBroken("tasks", ASSIGNEE)).isTrue();
    }

    @Test
    void anOlderRowOfTheOldShapeFromAnotherPartitionDoesNotFlipTheTableBack() {
        shapes.observe(update(100, FULL));
        shapes.observe(update(200, WITHOUT_ASSIGNEE));

        assertThat(shapes.observe(update(150, FULL))).isEmpty();
        assertThat(shapes.isBroken("tasks", ASSIGNEE)).isTrue();
    }

    @Test
    void theShapeOfAnUpdateStraddlingTheDdlIsItsAfterImage() {
        shapes.observe(update(100, FULL));

        ShapeChange change = shapes.observe(update(200, FULL, WITHOUT_ASSIGNEE)).orElseThrow();

        assertThat(change.rules()).containsExactly(new RuleChange(ASSIGNEE, Set.of("assignee")));
    }

    @Test
    void theShapeOfADeleteIsItsBeforeImage() {
        shapes.observe(update(100, FULL));

        assertThat(shapes.observe(delete(200, WITHOUT_ASSIGNEE)).orElseThrow().rules())
                .containsExactly(new RuleChange(ASSIGNEE, Set.of("assignee")));
    }

    @Test
    void aFirstEventWithoutAColumnBreaksTheTemplateAtOnce() {
        ShapeChange change = shapes.observe(update(100, WITHOUT_ASSIGNEE)).orElseThrow();

        assertThat(change.first()).isTrue();
        assertThat(change.rules()).containsExactly(new RuleChange(ASSIGNEE, Set.of("assignee")));
    }

    @Test
    void tablesAreTrackedApart() {
        shapes.observe(update(100, FULL));
        shapes.observe(update(200, WITHOUT_ASSIGNEE));

        ChangeEvent project = ChangeEvent.of(Op.CREATE, "projects", Map.of("id", "p1"), null,
                Map.of("id", "p1", "name", "Apollo"), new Source(50, 7L, Instant.now(), false));

        assertThat(shapes.observe(project).orElseThrow().rules()).isEmpty();
        assertThat(shapes.isBroken("tasks", ASSIGNEE)).isTrue();
        assertThat(shapes.isBroken("projects", PROJECT)).isFalse();
    }

    @Test
    void aTableWithoutRulesIsNotTracked() {
        ChangeEvent organization = ChangeEvent.of(Op.CREATE, "organizations", Map.of("id", "o1"), null,
                Map.of("id", "o1"), new Source(50, 7L, Instant.now(), false));

        assertThat(shapes.observe(organization)).isEmpty();
    }

    @Test
    void lsnsAreComparedUnsigned() {
        shapes.observe(update(Long.MAX_VALUE, FULL));

        assertThat(shapes.observe(update(Long.MIN_VALUE, WITHOUT_ASSIGNEE))).isPresent();
    }

    @Test
    void theMissingColumnsOfATemplateKeepItsOrder() {
        assertThat(ObservedShapes.missingColumns(ASSIGNEE, Set.of("id"))).containsExactly("assignee", "status");
        assertThat(ObservedShapes.missingColumns(ASSIGNEE, FULL.keySet())).isEmpty();
    }

    @Test
    void shapesReadFromTheDatabaseAtStartupIgnoreAnOlderBacklogWithoutAColumnAddedSince() {
        ObservedShapes fromDatabase = new ObservedShapes(RULES, Map.of("tasks", List.copyOf(FULL.keySet()),
                "organizations", List.of("id", "name")), 1000);

        assertThat(fromDatabase.observe(update(500, WITHOUT_ASSIGNEE))).isEmpty();
        assertThat(fromDatabase.observe(update(1001, FULL))).isEmpty();
        assertThat(fromDatabase.isBroken("tasks", ASSIGNEE)).isFalse();
    }

    @Test
    void shapesReadFromTheDatabaseAtStartupSeeAColumnDroppedAfterwards() {
        ObservedShapes fromDatabase = new ObservedShapes(RULES, Map.of("tasks", List.copyOf(FULL.keySet())), 1000);

        ShapeChange change = fromDatabase.observe(update(2000, WITHOUT_ASSIGNEE)).orElseThrow();

        assertThat(change.first()).isFalse();
        assertThat(change.rules()).containsExactly(new RuleChange(ASSIGNEE, Set.of("assignee")));
    }

    @Test
    void aTableWithRulesButNotInTheDatabaseAtStartupTakesTheShapeOfItsFirstEvent() {
        ObservedShapes fromDatabase = new ObservedShapes(RULES, Map.of(), 1000);

        assertThat(fromDatabase.observe(update(5, FULL)).orElseThrow().first()).isTrue();
    }
}
