package dev.changeflow.router.topics;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.ConnectionSettings;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/** The startup check every process runs before it uses Kafka, and the admin client settings that keep it short. */
public final class KafkaReachability {
    private KafkaReachability() {
    }

    /**
     * Admin client properties for {@code clientProperties} (bootstrap servers and any security settings) whose
     * requests give up after {@code timeout}, so a startup check fails in time.
     */
    public static Map<String, Object> adminConfig(Map<String, Object> clientProperties, Duration timeout) {
        Map<String, Object> config = new HashMap<>(clientProperties);
        int millis = (int) Math.min(timeout.toMillis(), Integer.MAX_VALUE);
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, millis);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, millis);
        return config;
    }

    /**
     * Checks that a Kafka broker answers within {@code timeout}.
     *
     * @throws ConfigException naming {@code CHANGEFLOW_KAFKA_BOOTSTRAP} and {@code bootstrap}
     */
    public static void check(Admin admin, String bootstrap, Duration timeout) {
        try {
            admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while checking Kafka", e);
        } catch (ExecutionException | TimeoutException e) {
            throw ConfigException.unusable(ConnectionSettings.KAFKA_BOOTSTRAP, bootstrap,
                    "no Kafka broker answered within " + timeout.toSeconds() + " s; check the host:port list "
                            + "and that the brokers are up");
        }
    }
}
