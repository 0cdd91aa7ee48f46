package dev.changeflow.stack.internal;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.stack.KafkaServer;
import dev.changeflow.stack.StackSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts a KRaft broker in this JVM, or checks an external cluster. */
public final class KafkaLaunchers {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaLaunchers.class);

    /**
     * Broker settings for a single local broker. Internal topics must have replication factor 1 or consumer groups and
     * transactions never become available; auto-creation is off as in production.
     */
    static final Map<String, String> BROKER_CONFIG = Map.ofEntries(
            Map.entry("auto.create.topics.enable", "false"),
            Map.entry("offsets.topic.replication.factor", "1"),
            Map.entry("offsets.topic.num.partitions", "12"),
            Map.entry("transaction.state.log.replication.factor", "1"),
            Map.entry("transaction.state.log.min.isr", "1"),
            Map.entry("transaction.state.log.num.partitions", "4"),
            Map.entry("share.coordinator.state.topic.replication.factor", "1"),
            Map.entry("share.coordinator.state.topic.min.isr", "1"),
            Map.entry("group.initial.rebalance.delay.ms", "0"),
            Map.entry("num.partitions", "1"),
            Map.entry("default.replication.factor", "1"),
            Map.entry("min.insync.replicas", "1"));

    private KafkaLaunchers() {
    }

    /** One combined broker+controller node, data under a fresh work directory, listening on a random port. */
    public static KafkaServer embedded(Settings settings) {
        Path root = Path.of(settings.get(StackSettings.STACK_DIR));
        WorkDirectory dir = WorkDirectory.create(root, "kafka");
        try {
            TestKitNodes nodes = new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .setBaseDirectory(dir.path())
                    .build();
            KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes).setDeleteOnClose(true);
            BROKER_CONFIG.forEach(builder::setConfigProp);
            KafkaClusterTestKit cluster = builder.build();
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
            LOG.info("Embedded Kafka broker started at {}", cluster.bootstrapServers());
            return new KafkaServer(cluster.bootstrapServers(), false, () -> {
                try {
                    cluster.close();
                } finally {
                    dir.close();
                }
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            dir.close();
            throw new IllegalStateException("Interrupted while starting Kafka", e);
        } catch (Exception e) {
            dir.close();
            throw new IllegalStateException("Embedded Kafka did not start in " + dir.path(), e);
        }
    }

    /**
     * One combined broker+controller node with its logs and metadata in {@code directory}, which it keeps: formatted
     * on first use, reused after. See {@link PersistentKafkaNode}.
     */
    public static KafkaServer persistent(Path directory, int port) {
        WorkDirectory dir = WorkDirectory.claim(directory);
        try {
            int clientPort = port == 0 ? 0 : FreePorts.chooseOrFind(port, "Kafka");
            long started = System.nanoTime();
            PersistentKafkaNode node = PersistentKafkaNode.start(dir.path(), clientPort, BROKER_CONFIG);
            String bootstrap = node.bootstrapServers();
            LOG.info("Kafka broker started at {} in {} ms, data in {}", bootstrap,
                    (System.nanoTime() - started) / 1_000_000, dir.path());
            return new KafkaServer(bootstrap, false, new ServerStopper("Kafka", () -> {
                try {
                    node.stop();
                } finally {
                    dir.close();
                }
            }));
        } catch (RuntimeException e) {
            dir.close();
            throw e;
        }
    }

    /** The cluster of {@link ConnectionSettings#KAFKA_BOOTSTRAP}, after checking that a broker answers. */
    public static KafkaServer external(Settings settings) {
        String bootstrap = settings.get(ConnectionSettings.KAFKA_BOOTSTRAP).trim();
        Duration timeout = settings.get(StackSettings.CONNECT_TIMEOUT);
        Map<String, Object> config = Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        try (Admin admin = Admin.create(config)) {
            int brokers = admin.describeCluster().nodes().get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS).size();
            LOG.info("Using external Kafka at {} ({} brokers)", bootstrap, brokers);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while checking Kafka", e);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            throw ConfigException.unusable(ConnectionSettings.KAFKA_BOOTSTRAP, bootstrap,
                    "no Kafka broker answered within " + timeout.toSeconds() + " s; check the host:port list and "
                            + "that the brokers are up");
        }
        return new KafkaServer(bootstrap, true, () -> {
        });
    }
}
