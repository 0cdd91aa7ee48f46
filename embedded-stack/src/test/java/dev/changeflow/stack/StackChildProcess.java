package dev.changeflow.stack;

import dev.changeflow.config.Settings;

/**
 * Main class run in a separate JVM by {@link LeftoverCleanupIT}: starts every local server under the stack directory
 * given by the environment, prints {@code READY}, and waits to be killed.
 */
public final class StackChildProcess {
    private StackChildProcess() {
    }

    public static void main(String[] args) throws Exception {
        Settings settings = Settings.fromEnvironment();
        PostgresServer.start(settings);
        KafkaServer.start(settings);
        RedisServer.start(settings);
        System.out.println("READY");
        System.out.flush();
        Thread.currentThread().join();
    }
}
