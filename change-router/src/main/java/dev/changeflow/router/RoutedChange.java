package dev.changeflow.router;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A change event as a Kafka record, made by {@link TopicRouter#route}. Immutable: {@code value} is copied in and
 * out, and equality compares its content.
 *
 * @param topic the topic, for example {@code cdc.tasks-changes}; never null
 * @param key the record key, {@link ChangeEvent#kafkaKey()}; never null
 * @param value the UTF-8 JSON of the event, {@link ChangeEventCodec#encode}; never null
 * @param headers header names ({@link ChangeHeaders}) to their text values, in the order to write them; never null
 */
public record RoutedChange(String topic, String key, byte[] value, Map<String, String> headers) {

    /** Checks for nulls and copies {@code value} and {@code headers}. */
    public RoutedChange {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(key, "key");
        value = Objects.requireNonNull(value, "value").clone();
        headers = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(headers, "headers")));
    }

    /** A copy of the value bytes. */
    @Override
    public byte[] value() {
        return value.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof RoutedChange that && topic.equals(that.topic) && key.equals(that.key)
                && Arrays.equals(value, that.value) && headers.equals(that.headers);
    }

    @Override
    public int hashCode() {
        return Objects.hash(topic, key, Arrays.hashCode(value), headers);
    }

    @Override
    public String toString() {
        return "RoutedChange[topic=" + topic + ", key=" + key + ", headers=" + headers + ", value="
                + new String(value, StandardCharsets.UTF_8) + "]";
    }
}
