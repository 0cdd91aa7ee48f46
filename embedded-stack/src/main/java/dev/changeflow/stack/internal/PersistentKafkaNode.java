package dev.changeflow.stack.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import kafka.server.BrokerServer;
import kafka.server.ControllerServer;
import kafka.server.FaultHandlerFactory;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.server.SharedServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.bootstrap.BootstrapMetadata;
import org.apache.kafka.metadata.properties.MetaPropertiesEnsemble;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.raft.QuorumConfig;
import org.apache.kafka.server.ServerSocketFactory;
import org.apache.kafka.server.fault.LoggingFaultHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * One combined KRaft broker+controller in this JVM whose logs and metadata live in a directory that outlives it.
 *
 * <p>Assembled from the same parts as {@link KafkaRaftServer} (shared server, controller, broker), with two
 * differences: a fault is logged rather than halting the JVM (Kafka's standard handler calls {@code Exit.halt} on a
 * fatal fault, which would kill the application embedding the broker), and shutdown is bounded.
 *
 * <p>Directory layout: {@value #STATE_FILE} (cluster id and controller port, chosen on first use and reused) and
 * {@code logs/} (topic partitions and the {@code __cluster_metadata} log, formatted on first use). The quorum is static
 * ({@code controller.quorum.voters}, kraft.version 0), so the voters are configuration rather than data: if the kept
 * controller port is taken by another process, the node moves to a free one (checked to restart with its topics).
 */
final class PersistentKafkaNode {
    private static final Logger LOG = LoggerFactory.getLogger(PersistentKafkaNode.class);
    static final String STATE_FILE = "kafka-node.properties";
    private static final int NODE_ID = 1;
    private static final String BROKER_LISTENER = "PLAINTEXT";
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    /** Bounds the broker's controlled shutdown; a single node has no leadership to hand over. */
    private static final Duration BROKER_SHUTDOWN_TIMEOUT = Duration.ofSeconds(3);

    /**
     * Settings of the single persistent node beyond {@link KafkaLaunchers#BROKER_CONFIG}. Heartbeats drive both the
     * broker's registration at startup and its controlled shutdown, so a short interval makes both faster. After a
     * JVM was killed, the metadata log still holds the dead broker's registration, and the restarted broker cannot
     * register until that session expires: 3 s instead of 9 s (still six missed heartbeats before a live broker would
     * be fenced).
     */
    private static final Map<String, String> NODE_CONFIG = Map.of(
            "broker.heartbeat.interval.ms", "500",
            "broker.session.timeout.ms", "3000",
            "server.max.startup.time.ms", "60000",
            "log.cleaner.dedupe.buffer.size", "2097152");

    private final ControllerServer controller;
    private final BrokerServer broker;

    private PersistentKafkaNode(ControllerServer controller, BrokerServer broker) {
        this.controller = controller;
        this.broker = broker;
    }

    /**
     * Formats {@code directory/logs} if it has no {@code meta.properties} yet, starts the node, and returns once the
     * broker is registered, unfenced and accepting connections.
     *
     * @param clientPort the port for clients, already checked to be free, or 0 for a free one
     */
    static PersistentKafkaNode start(Path directory, int clientPort, Map<String, String> brokerConfig) {
        Path stateFile = directory.resolve(STATE_FILE);
        NodeState state = NodeState.loadOrCreate(stateFile);
        try {
            FreePorts.requireFree(state.controllerPort(), "the Kafka controller");
        } catch (IllegalStateException taken) {
            // The voters are static configuration, not stored in the metadata log: the controller can move.
            NodeState moved = new NodeState(state.clusterId(), FreePorts.find());
            LOG.info("Kafka controller port {} is taken; using {} from now on", state.controllerPort(),
                    moved.controllerPort());
            moved.save(stateFile);
            state = moved;
        }
        Path logs = directory.resolve("logs");
        KafkaConfig config = config(logs, clientPort, state, brokerConfig);
        try {
            Files.createDirectories(logs);
            if (!Files.exists(logs.resolve("meta.properties"))) {
                format(logs, state.clusterId());
            }
        } catch (Exception e) {
            throw new IllegalStateException("Cannot format Kafka storage in " + logs, e);
        }
        Tuple2<MetaPropertiesEnsemble, BootstrapMetadata> dirs =
                KafkaRaftServer.initializeLogDirs(config, LOG, "[persistent Kafka] ");
        FaultHandlerFactory faults = (name, fatal, action) -> new LoggingFaultHandler(name, action);
        SharedServer shared = new SharedServer(config, dirs._1(), Time.SYSTEM, new Metrics(),
                CompletableFuture.completedFuture(QuorumConfig.parseVoterConnections(config.quorumConfig().voters())),
                QuorumConfig.parseBootstrapServers(config.quorumConfig().bootstrapServers()),
                faults, ServerSocketFactory.INSTANCE);
        ControllerServer controller = new ControllerServer(shared, KafkaRaftServer.configSchema(), dirs._2());
        BrokerServer broker = new BrokerServer(shared);
        PersistentKafkaNode node = new PersistentKafkaNode(controller, broker);
        try {
            // As in KafkaRaftServer: the controller first, so that its endpoints reach the raft manager.
            controller.startup();
            broker.startup();
        } catch (RuntimeException e) {
            node.stop();
            throw e;
        }
        return node;
    }

    /** The {@code bootstrap.servers} value for clients. */
    String bootstrapServers() {
        return "127.0.0.1:" + broker.boundPort(ListenerName.normalised(BROKER_LISTENER));
    }

    /** Stops the broker (bounded controlled shutdown), then the controller, flushing the logs. */
    void stop() {
        // As in KafkaRaftServer: the broker first, since its controlled shutdown needs the controller.
        broker.shutdown(BROKER_SHUTDOWN_TIMEOUT);
        controller.shutdown();
        broker.awaitShutdown();
        controller.awaitShutdown();
    }

    private static KafkaConfig config(Path logs, int clientPort, NodeState state, Map<String, String> brokerConfig) {
        Map<String, Object> props = new HashMap<>(brokerConfig);
        props.putAll(NODE_CONFIG);
        props.put("process.roles", "broker,controller");
        props.put("node.id", Integer.toString(NODE_ID));
        props.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + state.controllerPort());
        // Clients are told the host and the bound port of this listener (advertised.listeners defaults to it).
        props.put("listeners", BROKER_LISTENER + "://127.0.0.1:" + clientPort + ","
                + CONTROLLER_LISTENER + "://127.0.0.1:" + state.controllerPort());
        props.put("listener.security.protocol.map",
                BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        props.put("controller.listener.names", CONTROLLER_LISTENER);
        props.put("inter.broker.listener.name", BROKER_LISTENER);
        props.put("log.dirs", logs.toString());
        props.put("metadata.log.dir", logs.toString());
        return new KafkaConfig(props, false);
    }

    private static void format(Path logs, String clusterId) throws Exception {
        LOG.info("Formatting Kafka storage in {} (cluster id {})", logs, clusterId);
        new Formatter()
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8))
                .setNodeId(NODE_ID)
                .setClusterId(clusterId)
                .setDirectories(List.of(logs.toString()))
                .setMetadataLogDirectory(logs.toString())
                .setControllerListenerName(CONTROLLER_LISTENER)
                .run();
    }

    /**
     * What is chosen on first use and kept: the cluster id (the data in {@code logs/} belongs to it) and the controller
     * port of the static quorum.
     */
    record NodeState(String clusterId, int controllerPort) {
        static NodeState loadOrCreate(Path file) {
            if (!Files.exists(file)) {
                NodeState state = new NodeState(Uuid.randomUuid().toString(), FreePorts.find());
                state.save(file);
                return state;
            }
            Properties p = new Properties();
            try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(in);
                return new NodeState(p.getProperty("cluster.id"),
                        Integer.parseInt(p.getProperty("controller.port", "").trim()));
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read " + file, e);
            } catch (NumberFormatException e) {
                throw new IllegalStateException(file + " has no valid controller.port; set one (any free port) or "
                        + "delete the whole directory to start afresh", e);
            }
        }

        void save(Path file) {
            Properties p = new Properties();
            p.setProperty("cluster.id", clusterId);
            p.setProperty("controller.port", Integer.toString(controllerPort));
            try {
                // Write then move, so that a crash never leaves half a file that would block every later start.
                Path tmp = Files.createTempFile(file.getParent(), STATE_FILE, ".part");
                try (var out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                    p.store(out, "Chosen on first start; the data in logs/ belongs to this cluster id");
                }
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot write " + file, e);
            }
        }

        NodeState {
            if (clusterId == null || clusterId.isBlank()) {
                throw new IllegalStateException("cluster.id is missing from " + STATE_FILE);
            }
        }
    }
}
