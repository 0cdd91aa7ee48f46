package dev.changeflow.stack;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.stack.internal.KafkaLaunchers;
import java.nio.file.Path;
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

    /**
     * A single combined KRaft broker+controller whose logs and metadata live in {@code directory}: formatted on first
     * use, reused after (topics, records, consumer-group offsets survive a restart). port 0 = a free port for clients.
     *
     * <p>The node runs in this JVM with the same broker settings as {@link #start(Settings) the local broker} (topic
     * auto-creation off, internal topics with replication factor 1). It listens and advertises on 127.0.0.1: clients
     * get {@code 127.0.0.1:<port>} from {@link #bootstrapServers()}. Its controller listens on a second port, chosen
     * on first use and kept in {@code directory}, as is the cluster id; should another process take that port, the
     * controller moves to a free one (logged). A fault inside the node is logged; it never halts the JVM.
     *
     * <p>{@link #close()} shuts the node down cleanly (logs flushed, so the next start needs no recovery) within a few
     * seconds and keeps {@code directory}; it is idempotent. A JVM killed with {@code -9} loses nothing that Kafka
     * acknowledged (the data is in the OS's page cache); the next start recovers the logs.
     *
     * @param directory created if missing; must not be in use by another live server
     * @param port 1-65535, or 0 for a free port
     * @return a running node whose broker is registered and accepts clients, never null
     * @throws IllegalStateException naming the port if it is taken, or naming the owner if another live process uses
     *     {@code directory}
     * @throws IllegalArgumentException if {@code port} is out of range
     */
    public static KafkaServer startPersistent(Path directory, int port) {
        return KafkaLaunchers.persistent(Objects.requireNonNull(directory, "directory"), port);
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
