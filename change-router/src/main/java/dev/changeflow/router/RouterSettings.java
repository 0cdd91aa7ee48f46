package dev.changeflow.router;

import dev.changeflow.config.Setting;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The settings of {@link TopicRouter}, which names the topic of each table the way Kafka Connect's
 * {@code RegexRouter} does: a regular expression matched against the whole table name and a replacement.
 */
public final class RouterSettings {

    /** Default of {@link #TOPIC_REGEX}: any table name, captured as group 1. */
    public static final String DEFAULT_TOPIC_REGEX = "(.*)";

    /** Default of {@link #TOPIC_REPLACEMENT}: {@code tasks} goes to {@code cdc.tasks-changes}. */
    public static final String DEFAULT_TOPIC_REPLACEMENT = "cdc.$1-changes";

    /** The regular expression a table name must match, whole, to be routed. */
    public static final Setting<String> TOPIC_REGEX = Setting.string("changeflow.router.topic-regex",
            "Regular expression (java.util.regex) that the whole bare table name, such as tasks, must match; its "
                    + "groups are used by the topic replacement. A change to a table it does not match fails.",
            DEFAULT_TOPIC_REGEX)
            .withValidation("a Java regular expression such as " + DEFAULT_TOPIC_REGEX, RouterSettings::isRegex);

    /** The topic of a table: the replacement of the table name, with {@code $n} for group n of the regex. */
    public static final Setting<String> TOPIC_REPLACEMENT = Setting.string("changeflow.router.topic-replacement",
            "Topic name for a table: replaces the table name matched by " + TOPIC_REGEX.key() + ", $1 standing "
                    + "for its first group (as in Kafka Connect's RegexRouter); with the defaults tasks goes to "
                    + DEFAULT_TOPIC_REPLACEMENT.replace("$1", "tasks") + ". Its dead-letter topic adds .dlt.",
            DEFAULT_TOPIC_REPLACEMENT);

    /** Default of {@link #STATE_TOPICS}, from our design documents. */
    public static final String DEFAULT_STATE_TOPICS = "tasks=task.state.snapshots,projects=project.state.snapshots";

    /** The compacted state topic of each table; see {@link StateTopics}. */
    public static final Setting<String> STATE_TOPICS = Setting.string("changeflow.router.state-topics",
            "Compacted state topic of each captured table, as table=topic pairs separated by commas: it holds the "
                    + "latest change event of every row (a tombstone once the row is deleted), written by capture in "
                    + "the same Kafka transaction as the change topic. A table not listed gets <table>.state.snapshots.",
            DEFAULT_STATE_TOPICS)
            .withValidation("table=topic pairs separated by commas, such as " + DEFAULT_STATE_TOPICS,
                    RouterSettings::isTableTopicList);

    /** Every router setting, for documentation and startup checks. */
    public static final List<Setting<?>> SETTINGS = List.of(TOPIC_REGEX, TOPIC_REPLACEMENT, STATE_TOPICS);

    private RouterSettings() {
    }

    private static boolean isTableTopicList(String value) {
        try {
            StateTopics.parse(value);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean isRegex(String regex) {
        try {
            Pattern.compile(regex);
            return true;
        } catch (PatternSyntaxException e) {
            return false;
        }
    }
}
