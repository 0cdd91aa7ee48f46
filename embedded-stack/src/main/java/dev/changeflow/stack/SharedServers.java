package dev.changeflow.stack;

import dev.changeflow.config.Settings;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Postgres, one Kafka and one Redis per JVM, started on first use from the environment's settings and stopped
 * when the JVM exits. Tests share these servers and isolate themselves with their own databases, topics and keys.
 * Thread-safe.
 */
public final class SharedServers {
    private static final Logger LOG = LoggerFactory.getLogger(SharedServers.class);
    private static final Deque<AutoCloseable> STARTED = new ArrayDeque<>();
    private static PostgresServer postgres;
    private static KafkaServer kafka;
    private static RedisServer redis;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(SharedServers::stopAll, "changeflow-shared-servers-stop"));
    }

    private SharedServers() {
    }

    /** The JVM's Postgres, started on first call. */
    public static synchronized PostgresServer postgres() {
        if (postgres == null) {
            postgres = started(PostgresServer::start);
        }
        return postgres;
    }

    /** The JVM's Kafka, started on first call. */
    public static synchronized KafkaServer kafka() {
        if (kafka == null) {
            kafka = started(KafkaServer::start);
        }
        return kafka;
    }

    /** The JVM's Redis, started on first call. Tests that stop Redis should start one of their own instead. */
    public static synchronized RedisServer redis() {
        if (redis == null) {
            redis = started(RedisServer::start);
        }
        return redis;
    }

    private static <T extends AutoCloseable> T started(Function<Settings, T> starter) {
        T server = starter.apply(Settings.fromEnvironment());
        STARTED.push(server);
        return server;
    }

    private static synchronized void stopAll() {
        while (!STARTED.isEmpty()) {
            AutoCloseable server = STARTED.pop();
            try {
                server.close();
            } catch (Exception e) {
                LOG.warn("Failed to stop {}: {}", server, e.toString());
            }
        }
    }
}
