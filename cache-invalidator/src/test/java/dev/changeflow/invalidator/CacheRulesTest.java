package dev.changeflow.invalidator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CacheRulesTest {
    @TempDir
    Path dir;

    @Test
    void withoutARulesFileTheDefaultRulesAreRead() {
        CacheRules rules = CacheRules.load(Settings.of(Map.of()));

        assertThat(rules.source()).isEqualTo("classpath:" + InvalidatorSettings.DEFAULT_RULES_RESOURCE);
        assertThat(rules.columnsByTemplate()).isEqualTo(Map.of(
                "tasks", Map.of("task:{id}", Set.of("id"), "project:{project_id}:tasks", Set.of("project_id")),
                "projects", Map.of("project:{id}", Set.of("id"))));
        assertThat(rules.columnsByTemplate().keySet()).containsExactly("tasks", "projects");
    }

    @Test
    void theConfiguredFileGivesEveryTemplateWithTheColumnsItNamesInFileOrder() throws Exception {
        Path file = Files.writeString(dir.resolve("rules.yaml"), """
                tables:
                  tasks:
                    - "user:{assignee}:tasks:{status}:{assignee}"
                    - "task:{id}"
                """);

        CacheRules rules = CacheRules.load(Settings.of(Map.of("CHANGEFLOW_INVALIDATOR_RULES_FILE", file.toString())));

        assertThat(rules.source()).isEqualTo(file.toString());
        assertThat(rules.columnsByTemplate().get("tasks").keySet())
                .containsExactly("user:{assignee}:tasks:{status}:{assignee}", "task:{id}");
        assertThat(rules.columnsByTemplate().get("tasks").get("user:{assignee}:tasks:{status}:{assignee}"))
                .containsExactly("assignee", "status");
    }

    @Test
    void aRulesFileThatCannotBeReadIsAConfigExceptionNamingTheSettingAsAtStartup() {
        Path missing = dir.resolve("none.yaml");

        assertThatThrownBy(() -> CacheRules.load(Settings.of(Map.of("CHANGEFLOW_INVALIDATOR_RULES_FILE",
                missing.toString()))))
                .isInstanceOf(ConfigException.class)
                .hasMessage("CHANGEFLOW_INVALIDATOR_RULES_FILE=" + missing + " (changeflow.invalidator.rules-file): "
                        + "rules " + missing + ": no such file");
    }

    @Test
    void theMapsCannotBeModified() {
        CacheRules rules = CacheRules.load(Settings.of(Map.of()));

        assertThatThrownBy(() -> rules.columnsByTemplate().remove("tasks"))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> rules.columnsByTemplate().get("tasks").clear())
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> rules.columnsByTemplate().get("tasks").get("task:{id}").add("x"))
                .isInstanceOf(UnsupportedOperationException.class);
    }
}
