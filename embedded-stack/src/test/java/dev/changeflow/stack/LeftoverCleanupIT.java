package dev.changeflow.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeftoverCleanupIT {

    @Test
    void serversOfAJvmKilledWithSigkillAreStoppedAndDeletedAtTheNextStart(@TempDir Path root) throws Exception {
        // Without the URL variables, so that the child starts local servers.
        Map<String, String> environment = new HashMap<>();
        environment.put("CHANGEFLOW_STACK_DIR", root.toString());
        environment.put("CHANGEFLOW_POSTGRES_URL", null);
        environment.put("CHANGEFLOW_KAFKA_BOOTSTRAP", null);
        environment.put("CHANGEFLOW_REDIS_URL", null);
        Process child = ChildJvm.start(environment);
        List<ProcessHandle> children;
        try {
            ChildJvm.awaitReady(child);
            children = childServerProcesses(root);
            assertThat(children).as("postmaster and redis-server of the child JVM").hasSize(2);
            assertThat(dirsUnder(root)).anyMatch(d -> d.startsWith("postgres-"))
                    .anyMatch(d -> d.startsWith("kafka-")).anyMatch(d -> d.startsWith("redis-"));
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hook runs
            child.waitFor(30, TimeUnit.SECONDS);
        }
        assertThat(children).as("servers outlive a JVM killed with -9").allMatch(ProcessHandle::isAlive);

        try (RedisServer next = RedisServer.start(Settings.of(Map.of("CHANGEFLOW_STACK_DIR", root.toString())))) {
            await("leftover server processes stopped").atMost(Duration.ofSeconds(30))
                    .until(() -> children.stream().noneMatch(ProcessHandle::isAlive));
            assertThat(dirsUnder(root)).as("only the new server's directory and the shared binaries remain")
                    .noneMatch(d -> d.startsWith("postgres-") || d.startsWith("kafka-"))
                    .filteredOn(d -> d.matches("redis-\\d+-.*")).hasSize(1);
        }
    }

    private static List<ProcessHandle> childServerProcesses(Path root) throws Exception {
        try (Stream<Path> files = Files.walk(root, 3)) {
            return files.filter(f -> f.getFileName().toString().equals("redis.pid")
                            || f.getFileName().toString().equals("postmaster.pid"))
                    .map(f -> {
                        try {
                            return Long.parseLong(Files.readAllLines(f).get(0).trim());
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    })
                    .map(pid -> ProcessHandle.of(pid).orElseThrow())
                    .toList();
        }
    }

    private static List<String> dirsUnder(Path root) throws Exception {
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.map(d -> d.getFileName().toString()).toList();
        }
    }
}
