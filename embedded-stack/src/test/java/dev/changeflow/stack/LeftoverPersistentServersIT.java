package dev.changeflow.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.stack.internal.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a JVM killed with {@code -9} leaves running in its persistent directories, and how the next start copes. */
class LeftoverPersistentServersIT {

    @Test
    void aPostmasterAndARedisLeftRunningByAKilledJvmAreStoppedAndAllServersStartAgainWithTheirData(
            @TempDir Path root) throws Exception {
        Path postgresDir = root.resolve("postgres");
        Path redisDir = root.resolve("redis");
        Path kafkaDir = root.resolve("kafka");
        Process child = ChildJvm.start(Map.of(), "persistent", postgresDir.toString(), redisDir.toString(),
                kafkaDir.toString());
        ProcessHandle postmaster;
        ProcessHandle redis;
        try {
            ChildJvm.awaitReady(child);
            postmaster = processOf(postgresDir.resolve("data").resolve("postmaster.pid"));
            redis = processOf(redisDir.resolve("redis.pid"));
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hook runs
            child.waitFor(30, TimeUnit.SECONDS);
        }
        assertThat(Processes.isRunning(postmaster)).as("the postmaster outlives a JVM killed with -9").isTrue();
        assertThat(Processes.isRunning(redis)).as("redis-server outlives a JVM killed with -9").isTrue();

        try (PostgresServer nextPostgres = PostgresServer.startPersistent(postgresDir, 0);
                RedisServer nextRedis = RedisServer.startLocal(redisDir, 0);
                KafkaServer nextKafka = KafkaServer.startPersistent(kafkaDir, 0)) {
            assertThat(Processes.isRunning(postmaster)).as("leftover postmaster").isFalse();
            assertThat(Processes.isRunning(redis)).as("leftover redis-server").isFalse();
            try (Connection c = nextPostgres.connect(); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT body FROM notes WHERE id = 1")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("written by the killed JVM");
            }
            assertThat(nextRedis.port()).isPositive();
            assertThat(recordsOf(nextKafka, "notes")).as("records the killed JVM's broker acknowledged")
                    .containsExactly("written by the killed JVM");
        }
    }

    private static List<String> recordsOf(KafkaServer kafka, String topic) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(
                Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(new TopicPartition(topic, 0)));
            consumer.seekToBeginning(consumer.assignment());
            await("the topic's record").atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
                return !values.isEmpty();
            });
        }
        return values;
    }

    private static ProcessHandle processOf(Path pidFile) throws Exception {
        long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
        return ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no process " + pid + " of " + pidFile));
    }
}
