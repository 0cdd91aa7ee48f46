package dev.changeflow.stack.internal;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.stack.RedisServer;
import dev.changeflow.stack.StackSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts a local {@code redis-server}, or checks an external Redis. */
public final class RedisLaunchers {
    private static final Logger LOG = LoggerFactory.getLogger(RedisLaunchers.class);
    /** The Linux x86-64 binary inside the embedded-redis jar. */
    private static final String SHIPPED_BINARY = "redis-server-6.2.6-v5-linux-amd64";

    private RedisLaunchers() {
    }

    /** A {@code redis-server} child process on a random free port, with persistence off. */
    public static RedisServer local(Settings settings) {
        Path root = Path.of(settings.get(StackSettings.STACK_DIR));
        Path binary = findOnPath("redis-server").orElseGet(() -> extractShippedBinary(root));
        WorkDirectory dir = WorkDirectory.create(root, "redis");
        RedisProcess process = new RedisProcess(binary, dir);
        process.start(FreePorts.find());
        LOG.info("Redis ({}) started on port {}", binary, process.port());
        return new RedisServer(URI.create("redis://127.0.0.1:" + process.port()), process);
    }

    /**
     * A {@code redis-server} child process on exactly {@code port} (0: a free one) with its files in {@code directory},
     * which it keeps. Starts empty: a dump left by {@link RedisServer#stop()} in an earlier run is deleted, since a
     * cache must not serve entries whose invalidations it may have missed.
     */
    public static RedisServer local(Path directory, int port) {
        WorkDirectory dir = WorkDirectory.claim(directory);
        try {
            Path binary = findOnPath("redis-server").orElseGet(() -> extractShippedBinary(dir.path()));
            Files.deleteIfExists(dir.path().resolve("dump.rdb"));
            RedisProcess process = new RedisProcess(binary, dir);
            process.startOn(FreePorts.chooseOrFind(port, "Redis"));
            LOG.info("Redis ({}) started on port {} in {}", binary.getFileName(), process.port(), dir.path());
            return new RedisServer(URI.create("redis://127.0.0.1:" + process.port()), process);
        } catch (IOException e) {
            dir.close();
            throw new UncheckedIOException("Cannot prepare " + dir.path() + " for Redis", e);
        } catch (RuntimeException e) {
            dir.close();
            throw e;
        }
    }

    /** The server of {@link ConnectionSettings#REDIS_URL}, after checking that it answers PING. */
    public static RedisServer external(Settings settings) {
        String raw = settings.raw(ConnectionSettings.REDIS_URL).orElseThrow();
        URI uri = settings.get(ConnectionSettings.REDIS_URL);
        Duration timeout = settings.get(StackSettings.CONNECT_TIMEOUT);
        String password = Optional.ofNullable(uri.getUserInfo())
                .map(u -> u.contains(":") ? u.substring(u.indexOf(':') + 1) : u)
                .filter(p -> !p.isEmpty())
                .orElse(null);
        int port = uri.getPort() < 0 ? 6379 : uri.getPort();
        if ("rediss".equalsIgnoreCase(uri.getScheme())) {
            LOG.info("Using external Redis over TLS at {}:{}; its reachability is checked by the client", uri.getHost(),
                    port);
            return new RedisServer(uri, null);
        }
        try {
            RedisPing.ping(uri.getHost(), port, password, timeout);
        } catch (IOException e) {
            throw ConfigException.unusable(ConnectionSettings.REDIS_URL, raw,
                    "Redis did not answer PING within " + timeout.toSeconds() + " s: " + e.getMessage());
        }
        LOG.info("Using external Redis at {}:{}", uri.getHost(), port);
        return new RedisServer(uri, null);
    }

    static Optional<Path> findOnPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        return Stream.of(path.split(java.io.File.pathSeparator))
                .map(p -> Path.of(p, name))
                .filter(Files::isExecutable)
                .findFirst();
    }

    private static Path extractShippedBinary(Path root) {
        Path target = root.resolve("redis-bin").resolve(SHIPPED_BINARY);
        if (Files.isExecutable(target)) {
            return target;
        }
        try (InputStream in = RedisLaunchers.class.getClassLoader().getResourceAsStream(SHIPPED_BINARY)) {
            if (in == null) {
                throw new IllegalStateException("No redis-server on PATH and " + SHIPPED_BINARY
                        + " is missing from the classpath (embedded-redis jar)");
            }
            Files.createDirectories(target.getParent());
            // Copy then move, so a concurrent JVM never runs a half-written binary.
            Path tmp = Files.createTempFile(target.getParent(), SHIPPED_BINARY, ".part");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            tmp.toFile().setExecutable(true, false);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot extract " + SHIPPED_BINARY + " to " + target, e);
        }
    }
}
