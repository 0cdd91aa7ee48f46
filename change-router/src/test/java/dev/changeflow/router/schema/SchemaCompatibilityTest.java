package dev.changeflow.router.schema;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SchemaCompatibilityTest {
    private static final ColumnShape ID = new ColumnShape("id", "uuid", null, null, false, "gen_random_uuid()");
    private static final ColumnShape TITLE = new ColumnShape("title", "text", null, null, false, null);
    private static final ColumnShape PRIORITY = new ColumnShape("priority", "int4", null, null, false, "3");
    private static final ColumnShape ASSIGNEE = new ColumnShape("assignee", "text", null, null, true, null);
    private static final TableShape TASKS = shape(ID, TITLE, PRIORITY, ASSIGNEE);

    private static TableShape shape(ColumnShape... columns) {
        return new TableShape("app.tasks", List.of(columns), List.of("id"));
    }

    private static TableShape with(ColumnShape added) {
        List<ColumnShape> columns = new ArrayList<>(TASKS.columns());
        columns.add(added);
        return new TableShape("app.tasks", columns, List.of("id"));
    }

    private static TableShape replacing(String name, ColumnShape replacement) {
        return new TableShape("app.tasks", TASKS.columns().stream()
                .map(c -> c.name().equals(name) ? replacement : c).toList(), List.of("id"));
    }

    @Test
    void anAddedNullableColumnBreaksNoMode() {
        TableShape next = with(new ColumnShape("estimate", "int4", null, null, true, null));
        for (CompatibilityMode mode : CompatibilityMode.values()) {
            assertThat(SchemaCompatibility.breaking(TASKS, next, mode)).as(mode.name()).isEmpty();
        }
        assertThat(SchemaCompatibility.differences(TASKS, next)).singleElement()
                .satisfies(c -> assertThat(c.kind()).isEqualTo(ShapeChange.Kind.COLUMN_ADDED));
    }

    @Test
    void anAddedNotNullColumnBreaksBackwardUnlessItHasADefault() {
        assertThat(SchemaCompatibility.breaking(TASKS, with(new ColumnShape("code", "text", null, null, false,
                null)), CompatibilityMode.BACKWARD)).hasSize(1);
        assertThat(SchemaCompatibility.breaking(TASKS, with(new ColumnShape("code", "text", null, null, false,
                "'c1'::text")), CompatibilityMode.FULL)).isEmpty();
    }

    @Test
    void aDroppedRequiredColumnBreaksForwardButNotBackward() {
        TableShape next = shape(ID, PRIORITY, ASSIGNEE);
        assertThat(SchemaCompatibility.breaking(TASKS, next, CompatibilityMode.BACKWARD)).isEmpty();
        assertThat(SchemaCompatibility.breaking(TASKS, next, CompatibilityMode.FORWARD)).singleElement()
                .satisfies(c -> assertThat(c.description()).isEqualTo("column title (text) dropped"));
        assertThat(SchemaCompatibility.breaking(TASKS, shape(ID, TITLE, PRIORITY), CompatibilityMode.FULL))
                .as("a nullable column dropped").isEmpty();
    }

    @Test
    void aRenameOfARequiredColumnBreaksBothWaysAndIsReportedAsARenameWhenKnown() {
        TableShape next = replacing("title", new ColumnShape("name", "text", null, null, false, null));
        assertThat(SchemaCompatibility.differences(TASKS, next, Map.of("title", "name"))).singleElement()
                .satisfies(c -> {
                    assertThat(c.kind()).isEqualTo(ShapeChange.Kind.COLUMN_RENAMED);
                    assertThat(c.breaksBackward()).isTrue();
                    assertThat(c.breaksForward()).isTrue();
                });
        assertThat(SchemaCompatibility.differences(TASKS, next)).extracting(ShapeChange::kind)
                .containsExactly(ShapeChange.Kind.COLUMN_DROPPED, ShapeChange.Kind.COLUMN_ADDED);
    }

    @Test
    void wideningATypeBreaksOnlyForwardAndNarrowingOnlyBackward() {
        TableShape wider = replacing("priority", new ColumnShape("priority", "int8", null, null, false, "3"));
        assertThat(SchemaCompatibility.breaking(TASKS, wider, CompatibilityMode.BACKWARD)).isEmpty();
        assertThat(SchemaCompatibility.breaking(TASKS, wider, CompatibilityMode.FORWARD)).hasSize(1);
        assertThat(SchemaCompatibility.breaking(wider, TASKS, CompatibilityMode.BACKWARD)).hasSize(1);
        assertThat(SchemaCompatibility.breaking(wider, TASKS, CompatibilityMode.FORWARD)).isEmpty();
    }

    @Test
    void varcharToTextAndToALongerVarcharWidenWhileAShorterOneNarrows() {
        ColumnShape v20 = new ColumnShape("code", "varchar", 20, null, true, null);
        ColumnShape v40 = new ColumnShape("code", "varchar", 40, null, true, null);
        ColumnShape text = new ColumnShape("code", "text", null, null, true, null);
        assertThat(SchemaCompatibility.widens(v20, text)).isTrue();
        assertThat(SchemaCompatibility.widens(v20, v40)).isTrue();
        assertThat(SchemaCompatibility.widens(v40, v20)).isFalse();
        assertThat(SchemaCompatibility.widens(text, v20)).isFalse();
    }

    @Test
    void anUnrelatedTypeChangeBreaksBothWays() {
        TableShape next = replacing("priority", new ColumnShape("priority", "text", null, null, false, "3"));
        assertThat(SchemaCompatibility.breaking(TASKS, next, CompatibilityMode.BACKWARD))
                .as("int4 values are JSON numbers, not the strings a text column holds").hasSize(1);
        assertThat(SchemaCompatibility.breaking(TASKS, next, CompatibilityMode.FORWARD))
                .as("text values are not int4 values").hasSize(1);
        TableShape uuid = replacing("title", new ColumnShape("title", "uuid", null, null, false, null));
        assertThat(SchemaCompatibility.breaking(TASKS, uuid, CompatibilityMode.BACKWARD)).hasSize(1);
        TableShape bool = replacing("priority", new ColumnShape("priority", "bool", null, null, false, null));
        assertThat(SchemaCompatibility.breaking(TASKS, bool, CompatibilityMode.FULL))
                .extracting(ShapeChange::kind).contains(ShapeChange.Kind.TYPE_CHANGED);
    }

    @Test
    void makingAColumnNotNullBreaksBackwardAndDroppingNotNullBreaksForward() {
        TableShape required = replacing("assignee", new ColumnShape("assignee", "text", null, null, false, null));
        assertThat(SchemaCompatibility.breaking(TASKS, required, CompatibilityMode.BACKWARD)).hasSize(1);
        assertThat(SchemaCompatibility.breaking(TASKS, required, CompatibilityMode.FORWARD)).isEmpty();
        assertThat(SchemaCompatibility.breaking(required, TASKS, CompatibilityMode.FORWARD)).hasSize(1);
    }

    @Test
    void noneAcceptsEverythingAndADefaultChangeBreaksNothing() {
        TableShape next = shape(ID, new ColumnShape("priority", "bool", null, null, false, null));
        assertThat(SchemaCompatibility.breaking(TASKS, next, CompatibilityMode.NONE)).isEmpty();
        TableShape newDefault = replacing("priority", new ColumnShape("priority", "int4", null, null, false, "2"));
        assertThat(SchemaCompatibility.breaking(TASKS, newDefault, CompatibilityMode.FULL)).isEmpty();
    }

    @Test
    void aDifferentPrimaryKeyBreaksBothWays() {
        TableShape next = new TableShape("app.tasks", TASKS.columns(), List.of("id", "title"));
        assertThat(SchemaCompatibility.breaking(TASKS, next, CompatibilityMode.BACKWARD)).extracting(ShapeChange::kind)
                .containsExactly(ShapeChange.Kind.PRIMARY_KEY_CHANGED);
        assertThat(SchemaCompatibility.breaking(TASKS, next, CompatibilityMode.FORWARD)).hasSize(1);
    }
}
