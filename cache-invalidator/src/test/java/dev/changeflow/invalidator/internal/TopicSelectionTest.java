package dev.changeflow.invalidator.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.router.RouterSettings;
import dev.changeflow.router.TopicRouter;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TopicSelectionTest {
    private final InvalidationRules rules = RulesFile.parse("r.yaml",
            "tables:\n  tasks: [\"task:{id}\"]\n  projects: [\"project:{id}\"]\n");
    private final TopicRouter router = TopicRouter.of(RouterSettings.DEFAULT_TOPIC_REGEX,
            RouterSettings.DEFAULT_TOPIC_REPLACEMENT);

    @Test
    void withoutConfiguredTopicsTheTopicsOfTheRulesTablesAreConsumed() {
        assertThat(TopicSelection.select(TopicSelection.topicsOf(rules, router), Optional.empty()))
                .containsExactly("cdc.tasks-changes", "cdc.projects-changes");
    }

    @Test
    void theRouterNamesTheTopics() {
        Map<String, String> topics = TopicSelection.topicsOf(rules, TopicRouter.of("(.*)", "t42.$1-changes"));

        assertThat(topics).containsExactly(Map.entry("tasks", "t42.tasks-changes"),
                Map.entry("projects", "t42.projects-changes"));
    }

    @Test
    void configuredTopicsThatAreExactlyTheRulesTopicsAreAccepted() {
        assertThat(TopicSelection.select(TopicSelection.topicsOf(rules, router),
                Optional.of(" cdc.projects-changes , cdc.tasks-changes")))
                .containsExactly("cdc.projects-changes", "cdc.tasks-changes");
    }

    @Test
    void aTableWhoseTopicIsNotConfiguredIsNamed() {
        assertThatThrownBy(() -> TopicSelection.select(TopicSelection.topicsOf(rules, router),
                Optional.of("cdc.tasks-changes")))
                .hasMessage("the rules for table projects would never run: its topic cdc.projects-changes is not "
                        + "subscribed; leave it unset to subscribe to the rules' topics");
    }

    @Test
    void aConfiguredTopicWithoutRulesIsNamed() {
        assertThatThrownBy(() -> TopicSelection.select(TopicSelection.topicsOf(rules, router),
                Optional.of("cdc.tasks-changes,cdc.projects-changes,cdc.organizations-changes")))
                .hasMessage("topic cdc.organizations-changes is not the topic of any table with rules (tasks -> "
                        + "cdc.tasks-changes, projects -> cdc.projects-changes); leave it unset to subscribe to "
                        + "the rules' topics");
    }

    @Test
    void aTableTheRouterCannotNameFails() {
        assertThatThrownBy(() -> TopicSelection.topicsOf(rules, TopicRouter.of("tasks", "cdc.$0")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("projects");
    }
}
