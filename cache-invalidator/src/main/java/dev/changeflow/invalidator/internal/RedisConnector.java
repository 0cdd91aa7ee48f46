package dev.changeflow.invalidator.internal;

import dev.changeflow.config.Redaction;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.ClientOptions.DisconnectedBehavior;
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

/**
 * One Lettuce connection to Redis, set up for a consumer that must never lose an invalidation: it reconnects by
 * itself after the connection drops (pausing from 10 ms up to {@code reconnectMaxDelay}, doubling), rejects commands
 * at once while disconnected instead of buffering them (so the subscription sees an outage and retries, and nothing
 * piles up in memory), and fails a command that has no answer within {@code commandTimeout}. Lettuce connections are
 * thread-safe and pipelined, so one serves every lane of the subscription.
 */
public final class RedisConnector implements AutoCloseable {
    private final ClientResources resources;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final String maskedUrl;

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

    /** Reactive commands on the connection. */
    public RedisReactiveCommands<String, String> reactive() {
        return connection.reactive();
    }

    /** The URL with its password masked, for logs. */
    public String maskedUrl() {
        return maskedUrl;
    }

    /** Closes the connection, then the client and its threads. Idempotent. */
    @Override
    public void close() {
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
}
