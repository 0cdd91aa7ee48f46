package dev.changeflow.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TopicRouterTest {

    private static final TopicRouter DEFAULTS = TopicRouter.fromSettings(Settings.of(Map.of()));

    @Test
    void byDefaultEachTableHasItsOwnCdcTopic() {
        assertThat(DEFAULTS.topicFor("tasks")).isEqualTo("cdc.tasks-changes");
        assertThat(DEFAULTS.topicFor("projects")).isEqualTo("cdc.projects-changes");
    }

    @Test
    void aCustomRegexAndReplacementAreReadFromSettings() {
        TopicRouter router = TopicRouter.fromSettings(Settings.of(Map.of(
                "CHANGEFLOW_ROUTER_TOPIC_REGEX", "(task|project)s",
                "changeflow.router.topic-replacement", "app.$1.v1")));

        assertThat(router.topicFor("tasks")).isEqualTo("app.task.v1");
        assertThat(router.topicFor("projects")).isEqualTo("app.project.v1");
    }

    @Test
    void aTableTheRegexDoesNotMatchWhollyHasNoTopic() {
        TopicRouter router = TopicRouter.of("task", "cdc.$0");

        assertThatThrownBy(() -> router.topicFor("tasks"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'tasks'")
                .hasMessageContaining("'task'");
        assertThat(router.topicFor("task")).isEqualTo("cdc.task");
    }

    @Test
    void aReplacementThatMakesAnIllegalTopicNameIsRejected() {
        assertThatThrownBy(() -> TopicRouter.of("(.*)", "cdc/$1").topicFor("tasks"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'cdc/tasks'")
                .hasMessageContaining("not a legal Kafka topic name");
    }

    @Test
    void anInvalidRegexFailsNamingTheSetting() {
        assertThatThrownBy(() -> TopicRouter.fromSettings(Settings.of(Map.of("changeflow.router.topic-regex", "(tasks"))))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("CHANGEFLOW_ROUTER_TOPIC_REGEX=(tasks")
                .hasMessageContaining("changeflow.router.topic-regex")
                .hasMessageContaining("a Java regular expression")
                .extracting(e -> ((ConfigException) e).key()).isEqualTo("changeflow.router.topic-regex");
    }

    @Test
    void theDeadLetterTopicAddsDlt() {
        assertThat(TopicRouter.deadLetterTopicFor("cdc.tasks-changes")).isEqualTo("cdc.tasks-changes.dlt");
    }

    @Test
    void aRoutedChangeHasTheTopicKeyEncodedEventAndHeadersInOrder() {
        ChangeEvent event = SampleEvents.update();

        RoutedChange routed = DEFAULTS.route(event);

        assertThat(routed.topic()).isEqualTo("cdc.tasks-changes");
        assertThat(routed.key()).isEqualTo("tasks:" + SampleEvents.TASK_ID);
        assertThat(routed.value()).isEqualTo(ChangeEventCodec.encode(event));
        assertThat(ChangeEventCodec.decode(routed.value())).isEqualTo(event);
        assertThat(routed.headers()).containsExactly(
                entry(ChangeHeaders.OP, "update"),
                entry(ChangeHeaders.TABLE, "tasks"),
                entry(ChangeHeaders.LSN, "97500059720"));
    }

    @Test
    void theLsnHeaderIsUnsigned() {
        ChangeEvent event = ChangeEvent.of(Op.DELETE, "tasks", SampleEvents.key(), SampleEvents.key(), null,
                new Source(-1L, 1, SampleEvents.STREAMED.commitTs(), false));

        assertThat(DEFAULTS.route(event).headers()).containsEntry(ChangeHeaders.LSN, "18446744073709551615");
    }

    @Test
    void aRoutedChangeCannotBeChangedThroughItsValue() {
        RoutedChange routed = DEFAULTS.route(SampleEvents.create());
        routed.value()[0] = 'X';

        assertThat(routed.value()[0]).isEqualTo((byte) '{');
        assertThat(routed).isEqualTo(DEFAULTS.route(SampleEvents.create()));
    }

    @Test
    void everyRouterSettingIsListedWithADescriptionAndDefault() {
        assertThat(RouterSettings.SETTINGS).extracting(s -> s.key())
                .containsExactly("changeflow.router.topic-regex", "changeflow.router.topic-replacement",
                        "changeflow.router.state-topics");
        assertThat(RouterSettings.SETTINGS).allSatisfy(s -> assertThat(s.description()).isNotBlank());
        assertThat(RouterSettings.TOPIC_REGEX.defaultValue()).contains("(.*)");
        assertThat(RouterSettings.TOPIC_REPLACEMENT.defaultValue()).contains("cdc.$1-changes");
        assertThat(RouterSettings.TOPIC_REPLACEMENT.description()).contains("cdc.tasks-changes");
    }
}
