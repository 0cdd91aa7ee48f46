package dev.changeflow.invalidator.internal;

import dev.changeflow.config.Redaction;
import dev.changeflow.router.subscription.Dependency;
import dev.changeflow.router.subscription.FailureKind;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.ClientOptions.DisconnectedBehavior;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.reactive.RedisReactiveCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Lettuce connection to Redis, set up for a consumer that must never lose an invalidation: it reconnects by
 * itself after the connection drops (a server restart, {@code CLIENT KILL}; pausing from 10 ms up to
 * {@code reconnectMaxDelay}, doubling), rejects commands at once while disconnected instead of buffering them (so the
 * subscription sees an outage and retries, and nothing piles up in memory), and fails a command that has no answer
 * within {@code commandTimeout}. Lettuce connections are thread-safe and pipelined, so one serves every lane of the
 * subscription.
 *
 * <p>As the subscription's {@link Dependency}: a connection that this process closed never reconnects by itself, so
 * a failure while it is closed is {@link FailureKind#BROKEN} and {@link #reopen} opens a new one on the same client;
 * every other failure is as {@link RedisOutages} says.
 */
public final class RedisConnector implements Dependency, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RedisConnector.class);

    private final ClientResources resources;
    private final RedisClient client;
    private volatile StatefulRedisConnection<String, String> connection;
    private final String maskedUrl;
    private volatile boolean closed;

    private RedisConnector(ClientResources resources, RedisClient client,
            StatefulRedisConnection<String, String> connection, String maskedUrl) {
        this.resources = resources;
        this.client = client;
        this.connection = connection;
        this.maskedUrl = maskedUrl;
    }

    /**
     * Connects (authenticating if the URL carries a password).
     *
     * @throws io.lettuce.core.RedisConnectionException if Redis cannot be reached or refuses the connection; nothing
     *     is left open
     */
    public static RedisConnector connect(URI url, Duration commandTimeout, Duration reconnectMaxDelay) {
        ClientResources resources = ClientResources.builder()
                .reconnectDelay(Delay.exponential(Duration.ofMillis(10), reconnectMaxDelay, 2, TimeUnit.MILLISECONDS))
                .build();
        RedisURI uri = RedisURI.create(url);
        uri.setTimeout(commandTimeout);
        RedisClient client = RedisClient.create(resources, uri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                .socketOptions(SocketOptions.builder().connectTimeout(commandTimeout).keepAlive(true).build())
                .build());
        try {
            return new RedisConnector(resources, client, client.connect(StringCodec.UTF8),
                    Redaction.maskCredentials(url.toString()));
        } catch (RuntimeException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** Reactive commands on the current connection (a new one after {@link #reopen}). */
    public RedisReactiveCommands<String, String> reactive() {
        return connection.reactive();
    }

    /** The current connection: to see which one is in use, or to close it as a bug would (tests). */
    public StatefulRedisConnection<String, String> connection() {
        return connection;
    }

    /** The URL with its password masked, for logs. */
    public String maskedUrl() {
        return maskedUrl;
    }

    /**
     * {@link FailureKind#BROKEN} for a failure while the current connection is closed (by this process: Lettuce
     * reconnects a dropped connection by itself, never a closed one); else {@link FailureKind#OUTAGE} or
     * {@link FailureKind#FAULT} as {@link RedisOutages} decides.
     */
    @Override
    public FailureKind classify(Throwable error) {
        if (!closed && isClosed(connection)) {
            return FailureKind.BROKEN;
        }
        return RedisOutages.isOutage(error) ? FailureKind.OUTAGE : FailureKind.FAULT;
    }

    /**
     * Opens a new connection on the same client if the current one is closed; a connection that is open (or
     * reconnecting by itself) is kept.
     *
     * @throws io.lettuce.core.RedisConnectionException if Redis cannot be reached: the subscription then fails
     */
    @Override
    public synchronized void reopen() {
        if (closed) {
            throw new IllegalStateException("the Redis connector to " + maskedUrl + " is closed");
        }
        StatefulRedisConnection<String, String> old = connection;
        if (!isClosed(old)) {
            return;
        }
        connection = client.connect(StringCodec.UTF8);
        LOG.info("Opened a new Redis connection to {} (the previous one was closed)", maskedUrl);
    }

    private static boolean isClosed(StatefulRedisConnection<?, ?> connection) {
        return connection instanceof RedisChannelHandler<?, ?> handler && handler.isClosed();
    }

    @Override
    public String describe() {
        return "the Redis connection to " + maskedUrl;
    }

    /** Closes the connection, then the client and its threads. Idempotent. */
    @Override
    public void close() {
        closed = true;
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
}
