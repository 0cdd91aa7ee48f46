package dev.changeflow.invalidator.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.invalidator.internal.RulesFile.InvalidRulesException;
import dev.changeflow.invalidator.internal.RulesValidator.Column;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RulesValidatorTest {
    private static final Map<String, List<Column>> APP = new LinkedHashMap<>();

    static {
        APP.put("projects", List.of(new Column("id", "uuid"), new Column("organization_id", "uuid"),
                new Column("name", "text")));
        APP.put("tasks", List.of(new Column("id", "uuid"), new Column("project_id", "uuid"),
                new Column("title", "text"), new Column("labels", "ARRAY")));
    }

    private static InvalidationRules rules(String yaml) {
        return RulesFile.parse("/etc/changeflow/rules.yaml", yaml);
    }

    @Test
    void rulesNamingExistingTablesAndColumnsPass() {
        assertThatCode(() -> RulesValidator.check(rules(
                "tables:\n  tasks: [\"task:{id}\", \"project:{project_id}:tasks\"]\n  projects: [\"project:{id}\"]\n"),
                "app", APP)).doesNotThrowAnyException();
    }

    @Test
    void anUnknownColumnIsNamedWithFileTableTemplateAndTheKnownColumns() {
        assertThatThrownBy(() -> RulesValidator.check(rules("tables:\n  tasks: [\"project:{projectid}:tasks\"]\n"),
                "app", APP))
                .isInstanceOf(InvalidRulesException.class)
                .hasMessage("rules /etc/changeflow/rules.yaml: table tasks, template \"project:{projectid}:tasks\": "
                        + "column projectid does not exist in app.tasks; its columns are id, project_id, title, "
                        + "labels");
    }

    @Test
    void anUnknownTableIsNamedWithTheKnownTables() {
        assertThatThrownBy(() -> RulesValidator.check(rules("tables:\n  task: [\"task:{id}\"]\n"), "app", APP))
                .hasMessage("rules /etc/changeflow/rules.yaml: table task does not exist in schema app; its tables "
                        + "are projects, tasks");
    }

    @Test
    void anEmptySchemaSuggestsItIsNotMigrated() {
        assertThatThrownBy(() -> RulesValidator.check(rules("tables:\n  tasks: [\"task:{id}\"]\n"), "app", Map.of()))
                .hasMessageEndingWith("its tables are none (is the schema migrated?)");
    }

    @Test
    void anArrayColumnCannotNameAKey() {
        assertThatThrownBy(() -> RulesValidator.check(rules("tables:\n  tasks: [\"label:{labels}\"]\n"), "app", APP))
                .hasMessageEndingWith("column labels is an array, which cannot name one key");
    }

    @Test
    void severalProblemsAreReportedOnOneLineWithTheFirstInFull() {
        InvalidationRules rules = rules(
                "tables:\n  tasks: [\"task:{idd}\", \"x:{nope}\"]\n  projets: [\"project:{id}\"]\n");

        assertThat(RulesValidator.problems(rules, "app", APP)).hasSize(3);
        assertThatThrownBy(() -> RulesValidator.check(rules, "app", APP))
                .hasMessageStartingWith("rules /etc/changeflow/rules.yaml: table tasks, template \"task:{idd}\": "
                        + "column idd does not exist")
                .hasMessageEndingWith(" (and 2 more problems)")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
}
