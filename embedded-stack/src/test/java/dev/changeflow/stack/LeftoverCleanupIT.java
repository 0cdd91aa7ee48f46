package dev.changeflow.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.config.Settings;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeftoverCleanupIT {

    @Test
    void serversOfAJvmKilledWithSigkillAreStoppedAndDeletedAtTheNextStart(@TempDir Path root) throws Exception {
        Process child = startChildJvm(root);
        List<ProcessHandle> children;
        try {
            awaitReady(child);
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

    private static Process startChildJvm(Path root) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder builder = new ProcessBuilder(java.toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), StackChildProcess.class.getName())
                .redirectErrorStream(true);
        builder.environment().put("CHANGEFLOW_STACK_DIR", root.toString());
        // Share the extracted Postgres binaries with the parent JVM's stack, so the child starts quickly.
        builder.environment().remove("CHANGEFLOW_POSTGRES_URL");
        builder.environment().remove("CHANGEFLOW_KAFKA_BOOTSTRAP");
        builder.environment().remove("CHANGEFLOW_REDIS_URL");
        return builder.start();
    }

    private static void awaitReady(Process child) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        await("child JVM prints READY").atMost(Duration.ofSeconds(120)).until(() -> {
            String line = out.readLine();
            if (line == null) {
                throw new AssertionError("child JVM exited before READY:\n" + seen);
            }
            seen.append(line).append('\n');
            return line.equals("READY");
        });
        // Keep draining the child's output so it never blocks on a full pipe.
        Thread drain = new Thread(() -> out.lines().forEach(l -> { }), "child-output-drain");
        drain.setDaemon(true);
        drain.start();
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
