package dev.changeflow.stack;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.stack.internal.KafkaLaunchers;
import java.util.Objects;

/**
 * A running Kafka cluster: a single KRaft broker started in this JVM from the Kafka jars, or an external cluster
 * given by {@link ConnectionSettings#KAFKA_BOOTSTRAP}. Topic auto-creation is off on the local broker, as in production.
 * Thread-safe; {@link #close()} stops a local broker and leaves an external cluster alone.
 */
public final class KafkaServer implements AutoCloseable {
    private final String bootstrapServers;
    private final boolean external;
    private final AutoCloseable stopper;

    /** For launchers: describes a cluster that is up and has a ready broker. */
    public KafkaServer(String bootstrapServers, boolean external, AutoCloseable stopper) {
        this.bootstrapServers = Objects.requireNonNull(bootstrapServers);
        this.external = external;
        this.stopper = Objects.requireNonNull(stopper);
    }

    /**
     * Starts a local KRaft broker, or checks and returns the external cluster of {@link ConnectionSettings#KAFKA_BOOTSTRAP}.
     *
     * @throws ConfigException naming {@code CHANGEFLOW_KAFKA_BOOTSTRAP} if the external cluster does not answer
     */
    public static KafkaServer start(Settings settings) {
        return settings.raw(ConnectionSettings.KAFKA_BOOTSTRAP).isPresent()
                ? KafkaLaunchers.external(settings)
                : KafkaLaunchers.embedded(settings);
    }

    /** The {@code bootstrap.servers} value for clients. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /**
     * Whether the cluster was given by URL. A local cluster has a single broker, so its topics have replication factor
     * 1; an external one is expected to have production durability.
     */
    public boolean isExternal() {
        return external;
    }

    @Override
    public void close() throws Exception {
        stopper.close();
    }

    @Override
    public String toString() {
        return (external ? "external" : "embedded") + " Kafka at " + bootstrapServers;
    }
}
