package dev.changeflow.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import static org.awaitility.Awaitility.await;

import dev.changeflow.stack.internal.Processes;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class LocalRedisIT {
    private static final Logger LOG = LoggerFactory.getLogger(LocalRedisIT.class);

    @Test
    void aLocalRedisListensOnExactlyTheGivenPortAndIsGoneAfterClose(@TempDir Path dir) throws Exception {
        int port = TestPorts.closedPort();
        long t0 = System.nanoTime();
        RedisServer redis = RedisServer.startLocal(dir, port);
        LOG.info("Start took {} ms", millisSince(t0));
        ProcessHandle process = processOf(dir);
        assertThat(redis.port()).isEqualTo(port);
        assertThat(redis.uri().toString()).isEqualTo("redis://127.0.0.1:" + port);
        RedisClient client = RedisClient.create(redis.uri().toString());
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            assertThat(connection.sync().set("cached", "yes")).isEqualTo("OK");
            assertThat(connection.sync().get("cached")).isEqualTo("yes");
        } finally {
            client.shutdown();
        }

        long t1 = System.nanoTime();
        redis.close();
        LOG.info("Close took {} ms", millisSince(t1));
        redis.close();

        assertThat(Processes.isRunning(process)).isFalse();
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
        assertThat(dir).isDirectory();
    }

    @Test
    void aTakenPortFailsWithAMessageNamingItInsteadOfMovingToAnother(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> RedisServer.startLocal(dir, port))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Port " + port + " on 127.0.0.1 is already in use")
                    .hasMessageContaining("Redis");
        }
    }

    @Test
    void closeAcceptsThatTheProcessAlreadyExitedAsAfterCtrlC(@TempDir Path dir) throws Exception {
        RedisServer redis = RedisServer.startLocal(dir, 0);
        ProcessHandle process = processOf(dir);
        // What a terminal's Ctrl-C does: SIGINT to the foreground process group, which redis-server is part of.
        new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).inheritIO().start().waitFor();
        await("redis-server stopped").atMost(Duration.ofSeconds(10)).until(() -> !Processes.isRunning(process));

        redis.close();

        try (RedisServer again = RedisServer.startLocal(dir, redis.port())) {
            assertThat(again.port()).isEqualTo(redis.port());
        }
    }

    private static ProcessHandle processOf(Path dir) throws Exception {
        long pid = Long.parseLong(Files.readAllLines(dir.resolve("redis.pid")).get(0).trim());
        return ProcessHandle.of(pid).orElseThrow();
    }

    private static long millisSince(long nanoTime) {
        return (System.nanoTime() - nanoTime) / 1_000_000;
    }
}
