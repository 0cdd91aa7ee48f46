package dev.changeflow.capture.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Changeflow {@code main} run as an operator runs it, for process-level tests: a JVM of its own on this test's
 * classpath, configured by environment variables only. Inherited {@code CHANGEFLOW_*} variables are dropped, so only
 * {@code env} configures it, and its operations endpoint takes a free port ({@code CHANGEFLOW_HTTP_PORT=0}) unless
 * {@code env} names one.
 */
public final class MainProcess {
    private MainProcess() {
    }

    /**
     * Starts {@code main} with {@code args}, its standard output to {@code stdout} and its standard error to
     * {@code stderr}, or into {@code stdout} as well when {@code stderr} is null.
     */
    public static Process start(Class<?> main, Map<String, String> env, Path stdout, Path stderr, String... args)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(stdout.toFile());
        if (stderr == null) {
            builder.redirectErrorStream(true);
        } else {
            builder.redirectError(stderr.toFile());
        }
        builder.environment().keySet().removeIf(name -> name.startsWith("CHANGEFLOW_"));
        builder.environment().put("CHANGEFLOW_HTTP_PORT", "0");
        builder.environment().putAll(env);
        return builder.start();
    }
}
