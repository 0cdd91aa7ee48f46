package dev.changeflow.indexer;

import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.Log4J2LoggerFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.opensearch.action.admin.cluster.health.ClusterHealthResponse;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.unit.TimeValue;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.node.NodeValidationException;
import org.opensearch.transport.Netty4Plugin;

/**
 * A real OpenSearch 2.19 node inside the test JVM (HTTP and transport on Netty 4.1), single-node cluster on loopback.
 *
 * <p>{@link #shared()} is the JVM's node, started on first use and closed (its data deleted) when the JVM exits. Tests
 * share it and isolate themselves with their own index names. {@link #stop()} and {@link #start()} simulate an outage:
 * the node goes away and comes back on the same ports with the same data, so to clients it is an outage, not a wipe.
 * Thread-safe.
 */
public final class OpenSearchNode {
    private static final TimeValue READY_TIMEOUT = TimeValue.timeValueSeconds(60);
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static OpenSearchNode shared;

    static {
        // Netty would log through SLF4J (Logback, DEBUG by default) if it finds it; the node's own logging is log4j,
        // configured by log4j2-test.properties. Keep the node's Netty there too.
        InternalLoggerFactory.setDefaultFactory(Log4J2LoggerFactory.INSTANCE);
    }

    private final Path home;
    private final int httpPort;
    private final int transportPort;
    private Node node;

    private OpenSearchNode(Path home, int httpPort, int transportPort) {
        this.home = home;
        this.httpPort = httpPort;
        this.transportPort = transportPort;
    }

    /** The JVM's node, started on first call (a few seconds) and closed when the JVM exits. */
    public static synchronized OpenSearchNode shared() {
        if (shared == null) {
            Path home = Path.of("target", "opensearch-" + ProcessHandle.current().pid()).toAbsolutePath();
            delete(home); // left by an earlier JVM with the same pid that was killed
            OpenSearchNode started = new OpenSearchNode(home, freePort(), freePort());
            started.start();
            Runtime.getRuntime().addShutdownHook(new Thread(started::closeAndDelete, "opensearch-test-node-stop"));
            shared = started;
        }
        return shared;
    }

    /** {@code http://127.0.0.1:<port>}, the same across {@link #stop()} and {@link #start()}. */
    public URI httpUrl() {
        return URI.create("http://127.0.0.1:" + httpPort);
    }

    /** Whether the node is running (between {@link #start()} and {@link #stop()}). */
    public synchronized boolean isRunning() {
        return node != null;
    }

    /**
     * Starts the node on its ports and data path, and returns once the cluster is at least yellow (every primary shard
     * of every index assigned). No-op if it is running.
     *
     * @throws IllegalStateException if it does not start or get ready within a minute
     */
    public synchronized void start() {
        if (node != null) {
            return;
        }
        try {
            Files.createDirectories(home.resolve("config"));
            Node started = new TestNode(settings());
            try {
                started.start();
            } catch (NodeValidationException | RuntimeException e) {
                started.close(); // releases the ports and the data directory's lock for another attempt
                throw e;
            }
            node = started;
            ClusterHealthResponse health = node.client().admin().cluster().prepareHealth()
                    .setWaitForYellowStatus().setTimeout(READY_TIMEOUT).get();
            if (health.isTimedOut()) {
                throw new IllegalStateException("OpenSearch node not ready after " + READY_TIMEOUT + ": " + health);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot prepare " + home, e);
        } catch (NodeValidationException e) {
            throw new IllegalStateException("OpenSearch node failed its checks", e);
        }
    }

    /**
     * Closes the node (connections are refused from then on), keeping its ports and data for {@link #start()}. No-op
     * if it is stopped. A test that stops the {@link #shared()} node starts it again in a {@code finally} block: the
     * next tests expect it running.
     */
    public synchronized void stop() {
        if (node == null) {
            return;
        }
        Node stopping = node;
        node = null;
        try {
            stopping.close();
            if (!stopping.awaitClose(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("OpenSearch node did not close within 30 s");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot close the OpenSearch node", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while closing the OpenSearch node", e);
        }
    }

    /**
     * Sets a dynamic setting of an existing index, such as {@code index.gc_deletes} or {@code index.refresh_interval}.
     *
     * @throws IllegalStateException if the node is stopped
     */
    public synchronized void updateIndexSetting(String index, String key, String value) {
        if (node == null) {
            throw new IllegalStateException("The OpenSearch node is stopped");
        }
        node.client().admin().indices().prepareUpdateSettings(index)
                .setSettings(Settings.builder().put(key, value)).get();
    }

    /**
     * The body of {@code GET path} on the node's HTTP API, such as {@code /my-index/_mapping}: for checks of what an
     * adapter created.
     *
     * @throws IllegalStateException if the answer is not a success
     */
    public String get(String path) {
        try {
            HttpResponse<String> response = HTTP.send(
                    HttpRequest.newBuilder(httpUrl().resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw new IllegalStateException("GET " + path + ": " + response.statusCode() + " " + response.body());
            }
            return response.body();
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted during GET " + path, e);
        }
    }

    /**
     * Sends {@code PUT path} with the JSON {@code body} to the node's HTTP API, such as {@code /my-index} with its
     * settings and mapping: for tests that set up what an earlier version left on a cluster. Returns the answer's body.
     *
     * @throws IllegalStateException if the answer is not a success
     */
    public String put(String path, String body) {
        try {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(httpUrl().resolve(path))
                    .header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw new IllegalStateException("PUT " + path + ": " + response.statusCode() + " " + response.body());
            }
            return response.body();
        } catch (IOException e) {
            throw new UncheckedIOException("PUT " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted during PUT " + path, e);
        }
    }

    private Settings settings() {
        return Settings.builder()
                .put("cluster.name", "changeflow-test")
                .put("node.name", "changeflow-test-node")
                .put("path.home", home.toString())
                .put("path.data", home.resolve("data").toString())
                .put("path.logs", home.resolve("logs").toString())
                .put("discovery.type", "single-node")
                .put("network.host", "127.0.0.1")
                .put("http.port", httpPort)
                .put("transport.port", transportPort)
                // A test disk may be nearly full; the watermarks would then block writes, which is not the point.
                .put("cluster.routing.allocation.disk.threshold_enabled", false)
                // The test JVM's heap is shared with the tests: do not trip the parent breaker on the tests' garbage.
                .put("indices.breaker.total.use_real_memory", false)
                .build();
    }

    private synchronized void closeAndDelete() {
        stop();
        delete(home);
    }

    private static void delete(Path directory) {
        if (Files.isDirectory(directory)) {
            try (Stream<Path> paths = Files.walk(directory)) {
                paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            } catch (IOException | UncheckedIOException e) {
                // Best effort: target/ is cleaned by the build anyway.
            }
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("No free port on loopback", e);
        }
    }

    /** Node's constructor that takes classpath plugins is protected: the Netty 4 transport is such a plugin here. */
    private static final class TestNode extends Node {
        TestNode(Settings settings) {
            super(InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> "changeflow-test-node"),
                    List.of(Netty4Plugin.class), true);
        }
    }
}
