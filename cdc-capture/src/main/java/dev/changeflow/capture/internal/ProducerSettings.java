package dev.changeflow.capture.internal;

import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.config.Settings;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Capture's Kafka producer configuration, in one place: acks=all, idempotent, lz4, linger and batch size as set. */
public final class ProducerSettings {
    private ProducerSettings() {
    }

    /** Producer properties for capture's sender. */
    public static Map<String, Object> of(Settings settings, String bootstrap) {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.CLIENT_ID_CONFIG, "changeflow-capture-" + settings.get(CaptureSettings.SLOT));
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        config.put(ProducerConfig.LINGER_MS_CONFIG, (int) settings.get(CaptureSettings.LINGER).toMillis());
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, settings.get(CaptureSettings.PRODUCER_BATCH_BYTES));
        // Idempotence keeps order with up to 5 requests in flight per connection.
        config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return config;
    }
}
