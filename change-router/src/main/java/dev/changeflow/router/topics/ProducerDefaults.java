package dev.changeflow.router.topics;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The producer settings our design requires of every Changeflow producer (capture, dead letters, replays, offset
 * tools), in one place: {@code acks=all}, idempotent, lz4, linger 5 ms, String keys and byte[] values. Callers add
 * what is theirs (a transactional id, another linger) on the returned map.
 */
public final class ProducerDefaults {
    /** Linger of every producer unless its owner sets another (capture's is a setting). */
    public static final int LINGER_MS = 5;

    private ProducerDefaults() {
    }

    /**
     * A new, mutable producer configuration.
     *
     * @param clientProperties the cluster's {@code bootstrap.servers} and any security settings
     * @param clientId how the producer names itself to the brokers
     */
    public static Map<String, Object> durable(Map<String, Object> clientProperties, String clientId) {
        Map<String, Object> config = new HashMap<>(clientProperties);
        config.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        config.put(ProducerConfig.LINGER_MS_CONFIG, LINGER_MS);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return config;
    }
}
