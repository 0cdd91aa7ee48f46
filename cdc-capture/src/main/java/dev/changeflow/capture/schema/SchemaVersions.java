package dev.changeflow.capture.schema;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The row schema versions capture registered in its schema topic (a compacted topic, one record per version, key
 * {@code <subject>:<version>}), read from the start: what {@code GET /schemas/...} serves where no schema registry is
 * configured. Immutable once read.
 */
public final class SchemaVersions {
    static final JsonMapper JSON = JsonMapper.builder().addModule(new JavaTimeModule())
            .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    private final Map<String, List<SchemaVersion>> bySubject;

    SchemaVersions(List<SchemaVersion> versions) {
        Map<String, List<SchemaVersion>> map = new LinkedHashMap<>();
        versions.stream().sorted(Comparator.comparing(SchemaVersion::subject).thenComparing(SchemaVersion::version))
                .forEach(v -> map.computeIfAbsent(v.subject(), s -> new ArrayList<>()).add(v));
        map.replaceAll((s, list) -> List.copyOf(list));
        this.bySubject = map;
    }

    /** Every version in the schema topic of {@code settings}, read now; none if the topic does not exist yet. */
    public static SchemaVersions read(Settings settings) {
        return read(settings.get(ConnectionSettings.KAFKA_BOOTSTRAP), settings.get(CaptureSettings.SCHEMA_TOPIC),
                Duration.ofSeconds(30));
    }

    /** Every version in {@code topic}, read from its start to its end. */
    public static SchemaVersions read(String bootstrap, String topic, Duration timeout) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "changeflow-schemas-" + UUID.randomUUID());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        Map<String, SchemaVersion> latestPerKey = new LinkedHashMap<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props)) {
            List<TopicPartition> partitions;
            try {
                partitions = consumer.partitionsFor(topic, timeout).stream()
                        .map(p -> new TopicPartition(topic, p.partition())).toList();
            } catch (UnknownTopicOrPartitionException e) {
                return new SchemaVersions(List.of());
            }
            if (partitions.isEmpty()) {
                return new SchemaVersions(List.of());
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p, timeout) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Could not read schema topic " + topic + " to its end within "
                            + timeout);
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value() == null) {
                        latestPerKey.remove(r.key());
                    } else {
                        latestPerKey.put(r.key(), decode(r.value()));
                    }
                }
            }
        }
        return new SchemaVersions(new ArrayList<>(latestPerKey.values()));
    }

    static SchemaVersion decode(byte[] json) {
        try {
            return JSON.readValue(json, SchemaVersion.class);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("Not a schema version record: " + new String(json,
                    StandardCharsets.UTF_8), e);
        }
    }

    static byte[] encode(SchemaVersion version) {
        try {
            return JSON.writeValueAsBytes(version);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The subjects, in name order. */
    public List<String> subjects() {
        return List.copyOf(bySubject.keySet());
    }

    /** The versions of {@code subject}, oldest first; empty if unknown. */
    public List<SchemaVersion> versions(String subject) {
        return bySubject.getOrDefault(subject, List.of());
    }

    /** Every version of every subject. */
    public List<SchemaVersion> all() {
        return bySubject.values().stream().flatMap(List::stream).toList();
    }
}
