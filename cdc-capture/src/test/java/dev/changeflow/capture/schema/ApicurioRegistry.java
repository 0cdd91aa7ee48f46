package dev.changeflow.capture.schema;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Apicurio Registry (its Quarkus distribution from Maven Central, unpacked by this module's build into
 * {@code target/apicurio-registry}), in-memory storage, run as a child process on free ports. It needs Java 21 or
 * later: the JVM running the tests if it is one, else the newest JDK under {@code /usr/lib/jvm}.
 */
final class ApicurioRegistry implements AutoCloseable {
    private static final Path HOME = Path.of("target", "apicurio-registry");
    private final Process process;
    private final URI api;

    private ApicurioRegistry(Process process, URI api) {
        this.process = process;
        this.api = api;
    }

    /** A Java 21+ launcher, if this machine has one. */
    static Optional<Path> java21() {
        if (Runtime.version().feature() >= 21) {
            return Optional.of(Path.of(System.getProperty("java.home"), "bin", "java"));
        }
        try (Stream<Path> jdks = Files.list(Path.of("/usr/lib/jvm"))) {
            return jdks.filter(jdk -> feature(jdk) >= 21).max(java.util.Comparator.comparingInt(ApicurioRegistry::feature))
                    .map(jdk -> jdk.resolve("bin").resolve("java")).filter(Files::isExecutable);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static int feature(Path jdk) {
        try {
            return Files.readAllLines(jdk.resolve("release")).stream().filter(l -> l.startsWith("JAVA_VERSION="))
                    .map(l -> l.replaceAll("[^0-9.]", "").split("\\.")[0]).map(Integer::parseInt).findFirst()
                    .orElse(0);
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    static boolean available() {
        return java21().isPresent() && Files.exists(HOME.resolve("quarkus-run.jar"));
    }

    /** Starts the registry and waits until it is ready. */
    static ApicurioRegistry start(Path log) throws IOException {
        int http = freePort();
        int management = freePort();
        Process process = new ProcessBuilder(List.of(java21().orElseThrow().toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
                "-Dquarkus.http.host=127.0.0.1", "-Dquarkus.http.port=" + http,
                "-Dquarkus.management.host=127.0.0.1", "-Dquarkus.management.port=" + management,
                "-jar", "quarkus-run.jar"))
                .directory(HOME.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ApicurioRegistry registry = new ApicurioRegistry(process, URI.create("http://127.0.0.1:" + http
                + "/apis/ccompat/v7/"));
        HttpClient client = HttpClient.newHttpClient();
        URI ready = URI.create("http://127.0.0.1:" + management + "/health/ready");
        try {
            await("Apicurio Registry ready").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
                    .ignoreExceptions().until(() -> {
                        if (!process.isAlive()) {
                            throw new IllegalStateException("Apicurio Registry exited: see " + log);
                        }
                        return client.send(HttpRequest.newBuilder(ready).GET().build(),
                                HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
                    });
        } catch (RuntimeException e) {
            registry.close();
            throw e;
        }
        return registry;
    }

    /** The Confluent-compatible API's base URL, ending with a slash. */
    URI api() {
        return api;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
