package dev.changeflow.capture.internal;

import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.router.topics.ProducerDefaults;
import dev.changeflow.config.Settings;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;

/** Capture's Kafka producer configuration: {@link ProducerDefaults} with linger and batch size as set. */
public final class ProducerSettings {
    private ProducerSettings() {
    }

    /** Producer properties for capture's sender. */
    public static Map<String, Object> of(Settings settings, String bootstrap) {
        Map<String, Object> config = ProducerDefaults.durable(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                "changeflow-capture-" + settings.get(CaptureSettings.SLOT));
        config.put(ProducerConfig.LINGER_MS_CONFIG, (int) settings.get(CaptureSettings.LINGER).toMillis());
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, settings.get(CaptureSettings.PRODUCER_BATCH_BYTES));
        // Idempotence keeps order with up to 5 requests in flight per connection.
        config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        return config;
    }
}
