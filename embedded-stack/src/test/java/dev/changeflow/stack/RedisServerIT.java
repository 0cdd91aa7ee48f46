package dev.changeflow.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RedisServerIT {

    @Test
    void keysSetAreRemovedByOneBatchedUnlink() {
        RedisServer redis = SharedServers.redis();
        String prefix = "stack-it:" + UUID.randomUUID() + ":";
        String[] keys = IntStream.range(0, 100).mapToObj(i -> prefix + i).toArray(String[]::new);
        RedisClient client = RedisClient.create(redis.uri().toString());
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            RedisCommands<String, String> redisCommands = connection.sync();
            for (String key : keys) {
                assertThat(redisCommands.set(key, "cached")).isEqualTo("OK");
            }
            assertThat(redisCommands.exists(keys)).isEqualTo(100);

            assertThat(redisCommands.unlink(keys)).isEqualTo(100);

            assertThat(redisCommands.exists(keys)).isZero();
        } finally {
            client.shutdown();
        }
    }

    @Test
    void aServerStartedHereCanBeStoppedAndRestartedOnTheSamePortKeepingItsData() throws Exception {
        try (RedisServer redis = RedisServer.start(Settings.fromEnvironment())) {
            int port = redis.port();
            RedisClient seeding = RedisClient.create(redis.uri().toString());
            try (StatefulRedisConnection<String, String> connection = seeding.connect()) {
                connection.sync().set("survives:restart", "yes");
            } finally {
                seeding.shutdown();
            }
            redis.stop();
            assertThatThrownBy(() -> new java.net.Socket("127.0.0.1", port).close())
                    .isInstanceOf(java.net.ConnectException.class);

            redis.restart();

            assertThat(redis.port()).isEqualTo(port);
            RedisClient client = RedisClient.create(redis.uri().toString());
            try (StatefulRedisConnection<String, String> connection = client.connect()) {
                assertThat(connection.sync().ping()).isEqualTo("PONG");
                assertThat(connection.sync().get("survives:restart")).isEqualTo("yes");
            } finally {
                client.shutdown();
            }
        }
    }

    @Test
    void anUnreachableRedisUrlGivesOneLineNamingTheSettingWithoutThePassword() throws Exception {
        int closedPort = TestPorts.closedPort();
        Settings settings = Settings.of(Map.of(
                "CHANGEFLOW_REDIS_URL", "redis://:hunter2@127.0.0.1:" + closedPort,
                "CHANGEFLOW_STACK_CONNECT_TIMEOUT", "2s"));

        assertThatThrownBy(() -> RedisServer.start(settings))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("CHANGEFLOW_REDIS_URL=redis://:****@127.0.0.1:" + closedPort
                        + " (changeflow.redis.url): Redis did not answer PING within 2 s")
                .hasMessageNotContaining("hunter2");
    }
}
