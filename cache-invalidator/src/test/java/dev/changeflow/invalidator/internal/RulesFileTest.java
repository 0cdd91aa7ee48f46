package dev.changeflow.invalidator.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.invalidator.InvalidatorSettings;
import dev.changeflow.invalidator.internal.RulesFile.InvalidRulesException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RulesFileTest {

    @Test
    void theDefaultRulesInvalidateTasksTheirProjectListsAndProjects() {
        InvalidationRules rules = RulesFile.readResource(InvalidatorSettings.DEFAULT_RULES_RESOURCE);

        assertThat(rules.source()).isEqualTo("classpath:" + InvalidatorSettings.DEFAULT_RULES_RESOURCE);
        assertThat(rules.templates()).containsOnlyKeys("tasks", "projects");
        assertThat(rules.templates().get("tasks")).map(KeyTemplate::toString)
                .containsExactly("task:{id}", "project:{project_id}:tasks");
        assertThat(rules.templates().get("projects")).map(KeyTemplate::toString).containsExactly("project:{id}");
    }

    @Test
    void aFileIsReadWithTablesAndTemplatesInFileOrder(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("rules.yaml"), """
                tables:
                  projects:
                    - project:{id}
                  tasks:
                    - "task:{id}"
                    - 'task:{id}:title'
                """);

        InvalidationRules rules = RulesFile.read(file);

        assertThat(rules.source()).isEqualTo(file.toString());
        assertThat(rules.tables()).containsExactly("projects", "tasks");
        assertThat(rules.templates().get("tasks")).map(KeyTemplate::toString)
                .containsExactly("task:{id}", "task:{id}:title");
    }

    @Test
    void aMissingFileIsNamed(@TempDir Path dir) {
        Path missing = dir.resolve("nope.yaml");

        assertThatThrownBy(() -> RulesFile.read(missing))
                .isInstanceOf(InvalidRulesException.class)
                .hasMessage("rules " + missing + ": no such file");
    }

    @Test
    void aMissingResourceIsNamed() {
        assertThatThrownBy(() -> RulesFile.readResource("no/such.yaml"))
                .hasMessage("rules classpath:no/such.yaml: no such resource");
    }

    @Test
    void brokenYamlIsReportedWithItsLine() {
        assertThatThrownBy(() -> RulesFile.parse("r.yaml", "tables:\n  tasks: [\"task:{id}\"\n"))
                .hasMessageStartingWith("rules r.yaml: is not valid YAML (line ")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void anEmptyDocumentIsRejected() {
        assertThatThrownBy(() -> RulesFile.parse("r.yaml", "# nothing\n"))
                .hasMessage("rules r.yaml: is empty; it needs a 'tables' mapping");
    }

    @Test
    void anUnknownTopLevelKeyIsRejected() {
        assertThatThrownBy(() -> RulesFile.parse("r.yaml", "tables:\n  tasks: [\"task:{id}\"]\ntabels: {}\n"))
                .hasMessage("rules r.yaml: has an unknown top-level key 'tabels'; the only one is 'tables'");
    }

    @Test
    void tablesMustBeANonEmptyMapping() {
        assertThatThrownBy(() -> RulesFile.parse("r.yaml", "tables: {}\n"))
                .hasMessage("rules r.yaml: 'tables' must map at least one table to its key templates");
        assertThatThrownBy(() -> RulesFile.parse("r.yaml", "tables: [tasks]\n"))
                .hasMessage("rules r.yaml: 'tables' must map at least one table to its key templates");
    }

    @Test
    void aSchemaQualifiedTableIsRejectedWithTheFix() {
        assertThatThrownBy(() -> RulesFile.parse("r.yaml", "tables:\n  app.tasks: [\"task:{id}\"]\n"))
                .hasMessage("rules r.yaml: table 'app.tasks' is not a bare lower-case table name; write it without "
                        + "its schema, such as tasks");
    }

    @Test
    void aTableNeedsAListOfTemplates() {
        assertThatThrownBy(() -> RulesFile.parse("r.yaml", "tables:\n  tasks: \"task:{id}\"\n"))
                .hasMessage("rules r.yaml: table tasks must have a list of at least one key template, such as "
                        + "- \"tasks:{id}\"");
        assertThatThrownBy(() -> RulesFile.parse("r.yaml", "tables:\n  tasks: []\n"))
                .hasMessageContaining("table tasks must have a list of at least one key template");
    }

    @Test
    void aTemplateThatYamlReadsAsAMappingIsRejectedWithTheFix() {
        assertThatThrownBy(() -> RulesFile.parse("r.yaml", "tables:\n  tasks:\n    - {id}\n"))
                .hasMessageStartingWith("rules r.yaml: table tasks: key template ")
                .hasMessageEndingWith("is not a string; quote it (a template that starts with { reads as a YAML "
                        + "mapping)");
    }

    @Test
    void aTemplateThatDoesNotParseIsNamedWithItsTable() {
        assertThatThrownBy(() -> RulesFile.parse("r.yaml", "tables:\n  tasks:\n    - \"task:{id\"\n"))
                .hasMessage("rules r.yaml: table tasks, template \"task:{id\" \"{\" at position 5 is never closed");
    }

    @Test
    void aTemplateListedTwiceIsRejected() {
        assertThatThrownBy(() -> RulesFile.parse("r.yaml", "tables:\n  tasks: [\"t:{id}\", \"t:{id}\"]\n"))
                .hasMessage("rules r.yaml: table tasks, template \"t:{id}\" is listed twice");
    }

    @Test
    void aTableListedTwiceIsRejected() {
        assertThatThrownBy(() -> RulesFile.parse("r.yaml",
                "tables:\n  tasks: [\"t:{id}\"]\n  tasks: [\"u:{id}\"]\n"))
                .hasMessageStartingWith("rules r.yaml: is not valid YAML")
                .hasMessageContaining("tasks");
    }
}
