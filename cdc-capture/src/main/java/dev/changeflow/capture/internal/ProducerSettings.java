package dev.changeflow.capture.internal;

import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.router.topics.ProducerDefaults;
import dev.changeflow.config.Settings;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Capture's Kafka producer configuration: {@link ProducerDefaults} with linger and batch size as set, and in
 * exactly-once mode the deployment's transactional id.
 */
public final class ProducerSettings {
    private ProducerSettings() {
    }

    /** Producer properties for capture's sender. */
    public static Map<String, Object> of(Settings settings, String bootstrap) {
        Map<String, Object> config = ProducerDefaults.durable(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                "changeflow-capture-" + settings.get(CaptureSettings.SLOT));
        config.put(ProducerConfig.LINGER_MS_CONFIG, (int) settings.get(CaptureSettings.LINGER).toMillis());
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, settings.get(CaptureSettings.PRODUCER_BATCH_BYTES));
        config.put(ProducerConfig.BUFFER_MEMORY_CONFIG, (long) settings.get(CaptureSettings.PRODUCER_BUFFER_BYTES));
        // Idempotence keeps order with up to 5 requests in flight per connection.
        config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        return config;
    }

    /** Producer properties for capture's transactional writer (exactly-once mode). */
    public static Map<String, Object> transactional(Settings settings, String bootstrap) {
        Map<String, Object> config = of(settings, bootstrap);
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, CaptureSettings.transactionalId(settings));
        // A transaction left open by a capture that vanished blocks read_committed readers of its partitions until
        // the next instance fences it or this timeout aborts it.
        config.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 30_000);
        return config;
    }
}
