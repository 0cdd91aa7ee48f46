package dev.changeflow.capture.internal;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import org.apache.kafka.connect.runtime.WorkerConfig;
import org.apache.kafka.connect.storage.OffsetBackingStore;
import org.apache.kafka.connect.util.Callback;

/**
 * The engine's offset store in exactly-once mode. At start it reads the offsets topic to its end with
 * {@code read_committed}, so offsets written in an aborted or still open transaction are never seen; afterwards it keeps
 * the engine's offsets in memory and writes nothing. In this mode each batch's offsets were already written by the
 * publisher, in the same Kafka transaction as the batch's change events, before the engine marked the batch processed
 * and handed its offsets here ({@link TransactionalBatchWriter}).
 *
 * <p>The engine creates it by class name and configures it with its own properties: {@code bootstrap.servers},
 * {@code offset.storage.topic} and {@code name} (the engine name, the first element of every key it owns).
 */
public final class CommittedOffsetStore implements OffsetBackingStore {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<ByteBuffer, ByteBuffer> data = new ConcurrentHashMap<>();
    private String bootstrap;
    private String topic;
    private String engineName;

    @Override
    public void configure(WorkerConfig config) {
        Map<String, Object> properties = config.originals();
        bootstrap = Objects.requireNonNull((String) properties.get("bootstrap.servers"), "bootstrap.servers");
        topic = Objects.requireNonNull((String) properties.get("offset.storage.topic"), "offset.storage.topic");
        engineName = Objects.requireNonNull((String) properties.get("name"), "name");
    }

    /** Reads the engine's committed offsets; fails if the topic cannot be read to its end in 30 s. */
    @Override
    public void start() {
        CaptureOffsets.read(bootstrap, topic, engineName).forEach((key, value) -> data.put(key, ByteBuffer.wrap(value)));
    }

    @Override
    public void stop() {
        data.clear();
    }

    @Override
    public Future<Map<ByteBuffer, ByteBuffer>> get(Collection<ByteBuffer> keys) {
        Map<ByteBuffer, ByteBuffer> found = new HashMap<>();
        keys.forEach(key -> found.put(key, data.get(key)));
        return CompletableFuture.completedFuture(found);
    }

    /** Keeps {@code values} in memory: they are durable already, written with the batch they belong to. */
    @Override
    public Future<Void> set(Map<ByteBuffer, ByteBuffer> values, Callback<Void> callback) {
        values.forEach((key, value) -> {
            if (value == null) {
                data.remove(key);
            } else {
                data.put(key, value);
            }
        });
        if (callback != null) {
            callback.onCompletion(null, null);
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public Set<Map<String, Object>> connectorPartitions(String connectorName) {
        Set<Map<String, Object>> partitions = new HashSet<>();
        for (ByteBuffer key : data.keySet()) {
            try {
                JsonNode node = JSON.readTree(key.array());
                if (node != null && node.isArray() && node.size() == 2 && connectorName.equals(node.get(0).asText())) {
                    partitions.add(JSON.convertValue(node.get(1), new TypeReference<Map<String, Object>>() { }));
                }
            } catch (IOException e) {
                // Not a key of Connect's format: not a partition of any connector.
            }
        }
        return partitions;
    }
}
