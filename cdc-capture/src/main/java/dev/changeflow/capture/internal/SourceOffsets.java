package dev.changeflow.capture.internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.json.JsonConverterConfig;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * A batch's source offsets as records of the offsets topic, byte for byte as the engine's own offset writer would
 * write them (Kafka Connect's JSON converter without schemas): key {@code ["<engine name>", {partition}]}, value the
 * offset. The offset of a partition is that of its last record in the batch, which is what the engine commits once the
 * batch is marked processed. Not thread-safe (the converters are not); one per publisher.
 */
final class SourceOffsets {
    private final String engineName;
    private final String topic;
    private final JsonConverter keys = converter(true);
    private final JsonConverter values = converter(false);

    SourceOffsets(String engineName, String topic) {
        this.engineName = engineName;
        this.topic = topic;
    }

    /** One record per source partition of {@code records}, holding the offset of its last record there. */
    List<ProducerRecord<String, byte[]>> of(List<SourceRecord> records) {
        Map<Map<String, ?>, Map<String, ?>> last = new LinkedHashMap<>();
        for (SourceRecord record : records) {
            if (record.sourcePartition() != null && record.sourceOffset() != null) {
                last.put(record.sourcePartition(), record.sourceOffset());
            }
        }
        return last.entrySet().stream().map(e -> new ProducerRecord<>(topic,
                new String(keys.fromConnectData(engineName, null, Arrays.asList(engineName, e.getKey())),
                        StandardCharsets.UTF_8),
                values.fromConnectData(engineName, null, withoutIncrementalMark(e.getValue())))).toList();
    }

    /**
     * The offset without Debezium's mark of an incremental snapshot ({@code "snapshot": "INCREMENTAL"}), the one
     * change to what the engine would write. Debezium's Postgres connector reads any {@code snapshot} key back as "a
     * snapshot is running": after a restart during a backfill it then flags streamed changes as snapshot rows and, worse,
     * leaves the backfill's position out of the offsets it writes until the next chunk; a crash in that window forgets
     * the backfill. The incremental snapshot's own keys ({@code incremental_snapshot_*}) carry everything needed to
     * resume it. A blocking snapshot's mark ({@code INITIAL}, {@code BLOCKING}) is kept. Pure; visible for tests.
     */
    static Map<String, ?> withoutIncrementalMark(Map<String, ?> offset) {
        if (!"INCREMENTAL".equals(String.valueOf(offset.get("snapshot")))) {
            return offset;
        }
        Map<String, Object> copy = new LinkedHashMap<>(offset);
        copy.remove("snapshot");
        copy.remove("last_snapshot_record");
        return copy;
    }

    private static JsonConverter converter(boolean isKey) {
        JsonConverter converter = new JsonConverter();
        converter.configure(Map.of(JsonConverterConfig.SCHEMAS_ENABLE_CONFIG, "false"), isKey);
        return converter;
    }
}
