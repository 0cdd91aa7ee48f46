package dev.changeflow.router;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names the Kafka topic of each table and turns change events into Kafka records. Configured like Kafka Connect's
 * {@code RegexRouter}: a table name that matches the regex, whole, is replaced by the replacement, in which
 * {@code $1} stands for the first group. The defaults ({@link RouterSettings}) send {@code tasks} to
 * {@code cdc.tasks-changes}. Immutable and thread-safe.
 */
public final class TopicRouter {

    /** Kafka's rule for topic names. */
    private static final Pattern LEGAL_TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    private final Pattern regex;
    private final String replacement;

    private TopicRouter(Pattern regex, String replacement) {
        this.regex = regex;
        this.replacement = replacement;
    }

    /**
     * A router with the given regex and replacement.
     *
     * @throws NullPointerException if either is null
     * @throws java.util.regex.PatternSyntaxException if {@code regex} is not a regular expression
     */
    public static TopicRouter of(String regex, String replacement) {
        Objects.requireNonNull(regex, "regex");
        Objects.requireNonNull(replacement, "replacement");
        return new TopicRouter(Pattern.compile(regex), replacement);
    }

    /**
     * A router configured by {@link RouterSettings#TOPIC_REGEX} and {@link RouterSettings#TOPIC_REPLACEMENT}, or
     * their defaults.
     *
     * @throws ConfigException naming the setting, if the regex is not a regular expression
     */
    public static TopicRouter fromSettings(Settings settings) {
        return of(settings.get(RouterSettings.TOPIC_REGEX), settings.get(RouterSettings.TOPIC_REPLACEMENT));
    }

    /**
     * The topic of {@code table}, a bare table name such as {@code tasks}. Never null.
     *
     * @throws IllegalArgumentException if the regex does not match the whole table name, or the result is not a
     *     legal Kafka topic name; the message names the table and the regex
     */
    public String topicFor(String table) {
        Objects.requireNonNull(table, "table");
        Matcher matcher = regex.matcher(table);
        if (!matcher.matches()) {
            throw new IllegalArgumentException("Table '" + table + "' does not match the topic regex '" + regex
                    + "' (" + RouterSettings.TOPIC_REGEX.key() + "), so it has no topic");
        }
        // Replace the whole match only: replaceAll would also replace the empty match at the end of "(.*)".
        StringBuilder topic = new StringBuilder();
        matcher.appendReplacement(topic, replacement);
        String name = topic.toString();
        if (!LEGAL_TOPIC.matcher(name).matches() || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("Table '" + table + "' maps to '" + name + "' with regex '" + regex
                    + "' and replacement '" + replacement + "', which is not a legal Kafka topic name "
                    + "(1 to 249 of a-z A-Z 0-9 . _ -)");
        }
        return name;
    }

    /** The dead-letter topic of {@code topic}: {@code <topic>.dlt}, for example {@code cdc.tasks-changes.dlt}. */
    public static String deadLetterTopicFor(String topic) {
        Objects.requireNonNull(topic, "topic");
        return topic + ".dlt";
    }

    /**
     * The Kafka record of {@code event}: its table's topic, {@link ChangeEvent#kafkaKey()} as key, the
     * {@linkplain ChangeEventCodec#encode encoded} event as value, and the headers {@link ChangeHeaders#OP},
     * {@link ChangeHeaders#TABLE} and {@link ChangeHeaders#LSN}, in that order.
     *
     * @throws IllegalArgumentException as {@link #topicFor} does
     */
    public RoutedChange route(ChangeEvent event) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(ChangeHeaders.OP, event.op().jsonName());
        headers.put(ChangeHeaders.TABLE, event.table());
        headers.put(ChangeHeaders.LSN, Long.toUnsignedString(event.source().lsn()));
        return new RoutedChange(topicFor(event.table()), event.kafkaKey(), ChangeEventCodec.encode(event), headers);
    }

    @Override
    public String toString() {
        return "TopicRouter[regex=" + regex + ", replacement=" + replacement + "]";
    }
}
