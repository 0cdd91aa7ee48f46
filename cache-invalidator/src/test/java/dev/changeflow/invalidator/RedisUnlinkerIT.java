package dev.changeflow.invalidator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.changeflow.invalidator.internal.InvalidationRules;
import dev.changeflow.invalidator.internal.InvalidatorMetrics;
import dev.changeflow.invalidator.internal.RedisConnector;
import dev.changeflow.invalidator.internal.RedisOutages;
import dev.changeflow.invalidator.internal.RedisUnlinker;
import dev.changeflow.invalidator.internal.RulesFile;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.Op;
import dev.changeflow.router.Source;
import dev.changeflow.stack.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The batch handler against a real Redis of its own (so that the server's command statistics count only this test's
 * commands): how many UNLINK commands a batch costs, and how it fails while Redis is down.
 */
class RedisUnlinkerIT {
    private static final InvalidationRules RULES = RulesFile.parse("test",
            "tables:\n  tasks: [\"u:task:{id}\", \"u:project:{project_id}:tasks\"]\n");
    private static RedisServer redis;
    private static RedisClient client;
    private static StatefulRedisConnection<String, String> connection;

    @BeforeAll
    static void startRedis() {
        redis = OwnRedis.start();
        client = RedisClient.create(redis.uri().toString());
        connection = client.connect();
    }

    @AfterAll
    static void stopRedis() throws Exception {
        connection.close();
        client.shutdown();
        redis.close();
    }

    private static RedisCommands<String, String> redis() {
        return connection.sync();
    }

    /** {@code count} task updates, each in project {@code p<i % 10>}: {@code count} task keys and 10 list keys. */
    private static List<ChangeEvent> updates(int count) {
        List<ChangeEvent> events = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Map<String, Object> row = new HashMap<>(Map.of("id", "t" + i, "project_id", "p" + (i % 10)));
            events.add(ChangeEvent.of(Op.UPDATE, "tasks", Map.of("id", "t" + i), row, row,
                    new Source(i, i, Instant.now(), false)));
        }
        return events;
    }

    private static long unlinkCalls() {
        Matcher m = Pattern.compile("cmdstat_unlink:calls=(\\d+)").matcher(redis().info("commandstats"));
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    @Test
    void aBatchCostsOneUnlinkPerChunkOfDistinctKeys() {
        List<ChangeEvent> batch = updates(990); // 990 task keys + 10 project lists = 1,000 distinct keys
        List<String> keys = new ArrayList<>(RULES.keysFor(batch));
        assertThat(keys).hasSize(1_000);
        keys.subList(0, 600).forEach(k -> redis().set(k, "cached"));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        long callsBefore = unlinkCalls();

        try (RedisConnector connector = RedisConnector.connect(redis.uri(), Duration.ofSeconds(5),
                Duration.ofMillis(100))) {
            new RedisUnlinker(RULES, connector::reactive, 400, new InvalidatorMetrics(meters, Clock.systemUTC()))
                    .handle(batch).block(Duration.ofSeconds(10));
        }

        assertThat(unlinkCalls() - callsBefore).as("UNLINK commands for 1,000 keys in chunks of 400").isEqualTo(3);
        assertThat(redis().exists(keys.toArray(String[]::new))).isZero();
        assertThat(meters.get(InvalidatorMetrics.KEYS_REQUESTED).counter().count()).isEqualTo(1_000);
        assertThat(meters.get(InvalidatorMetrics.KEYS_UNLINKED).counter().count()).isEqualTo(600);
        assertThat(meters.get(InvalidatorMetrics.COMMIT_TO_INVALIDATED).timer().count()).isEqualTo(990);
    }

    @Test
    void whileRedisIsDownABatchFailsAtOnceWithAnOutageAndSucceedsOnceItIsBack() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (RedisConnector connector = RedisConnector.connect(redis.uri(), Duration.ofSeconds(5),
                Duration.ofMillis(100))) {
            RedisUnlinker unlinker = new RedisUnlinker(RULES, connector::reactive, 500,
                    new InvalidatorMetrics(meters, Clock.systemUTC()));
            redis().set("u:task:t1", "cached");
            redis.stop();
            try {
                long start = System.nanoTime();
                assertThatThrownBy(() -> unlinker.handle(updates(2)).block(Duration.ofSeconds(10)))
                        .as("rejected while disconnected, not after the 5 s command timeout")
                        .satisfies(e -> assertThat(RedisOutages.isOutage(e)).as("an outage: %s", e).isTrue());
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
            } finally {
                redis.restart();
            }

            await("the handler succeeding after Redis is back").atMost(Duration.ofSeconds(10))
                    .ignoreExceptionsMatching(RedisOutages::isOutage)
                    .until(() -> {
                        unlinker.handle(updates(2)).block(Duration.ofSeconds(5));
                        return true;
                    });
            assertThat(redis().exists("u:task:t1")).as("the key kept across the restart is deleted").isZero();
        }
    }
}
