package dev.changeflow.stack;

import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Runs {@link StackChildProcess} in a separate JVM with this JVM's classpath, for tests of what a killed JVM leaves. */
final class ChildJvm {
    private ChildJvm() {
    }

    /**
     * Starts the child JVM with {@code args}; {@code environment} is applied to a copy of this JVM's (a null value
     * removes the variable). Its output is merged into one stream.
     */
    static Process start(Map<String, String> environment, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), StackChildProcess.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        environment.forEach((k, v) -> {
            if (v == null) {
                builder.environment().remove(k);
            } else {
                builder.environment().put(k, v);
            }
        });
        return builder.start();
    }

    /** Waits until the child prints {@code READY}, then keeps draining its output so it never blocks on a full pipe. */
    static void awaitReady(Process child) {
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
        Thread drain = new Thread(() -> out.lines().forEach(l -> { }), "child-output-drain");
        drain.setDaemon(true);
        drain.start();
    }
}
