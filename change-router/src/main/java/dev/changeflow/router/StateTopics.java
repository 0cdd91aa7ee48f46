package dev.changeflow.router;

import dev.changeflow.config.Settings;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Names the compacted <em>state topic</em> of each table ({@link RouterSettings#STATE_TOPICS}) and defines its
 * records, the contract for teams that join late:
 * <ul>
 * <li>the key is the row's key on the change topic, {@link ChangeEvent#kafkaKey()} ({@code tasks:<id>});</li>
 * <li>the value is the v1 change event that produced the row's current state ({@code create}, {@code update} or
 *     {@code read}), encoded as on the change topic;</li>
 * <li>a delete is a tombstone: a null value, which compaction removes after {@code delete.retention.ms}. The
 *     tombstone carries the delete event in the header {@link #DELETE_EVENT_HEADER}, next to the usual
 *     {@link ChangeHeaders}, so a reader that meets it before compaction learns what was deleted.</li>
 * </ul>
 * Capture writes a state record for every change event, in the same Kafka transaction as the change record, so a
 * {@code read_committed} reader never sees the two topics disagree. Immutable and thread-safe.
 */
public final class StateTopics {
    /** Header of a tombstone: the delete event, encoded like a change record's value. */
    public static final String DELETE_EVENT_HEADER = "cdc-delete-event";
    private static final Pattern LEGAL_TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");
    private static final Pattern TABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*");

    private final Map<String, String> topics;

    private StateTopics(Map<String, String> topics) {
        this.topics = Map.copyOf(topics);
    }

    /** The state topics of {@link RouterSettings#STATE_TOPICS}. */
    public static StateTopics fromSettings(Settings settings) {
        return new StateTopics(parse(settings.get(RouterSettings.STATE_TOPICS)));
    }

    /** The state topics of {@code tableTopicPairs}, as the setting writes them. */
    public static StateTopics of(String tableTopicPairs) {
        return new StateTopics(parse(tableTopicPairs));
    }

    /** The state topic of a bare table name: the configured one, else {@code <table>.state.snapshots}. */
    public String topicFor(String table) {
        Objects.requireNonNull(table, "table");
        return topics.getOrDefault(table, table + ".state.snapshots");
    }

    /**
     * The record value of a state record: the encoded event, or null (a tombstone) for a delete.
     */
    public static byte[] valueOf(ChangeEvent event) {
        return event.op() == Op.DELETE ? null : ChangeEventCodec.encode(event);
    }

    /**
     * The event a state record stands for: its value decoded, or for a tombstone the delete event of its
     * {@link #DELETE_EVENT_HEADER} header.
     *
     * @param deleteEventHeader the header's bytes, or null if absent
     * @throws MalformedEventException if neither holds an event
     */
    public static ChangeEvent eventOf(byte[] value, byte[] deleteEventHeader) {
        if (value != null) {
            return ChangeEventCodec.decode(value);
        }
        if (deleteEventHeader == null) {
            throw new MalformedEventException("a state-topic tombstone without its " + DELETE_EVENT_HEADER
                    + " header", null);
        }
        return ChangeEventCodec.decode(deleteEventHeader);
    }

    static Map<String, String> parse(String value) {
        Map<String, String> out = new LinkedHashMap<>();
        if (value == null || value.isBlank()) {
            return out;
        }
        for (String pair : value.split(",")) {
            String[] kv = pair.trim().split("=", -1);
            if (kv.length != 2 || !TABLE.matcher(kv[0].trim()).matches()
                    || !LEGAL_TOPIC.matcher(kv[1].trim()).matches()) {
                throw new IllegalArgumentException("not a table=topic pair: '" + pair.trim() + "'");
            }
            out.put(kv[0].trim(), kv[1].trim());
        }
        return out;
    }

    @Override
    public String toString() {
        return "StateTopics" + topics;
    }
}
