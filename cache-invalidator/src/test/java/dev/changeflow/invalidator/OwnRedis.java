package dev.changeflow.invalidator;

import dev.changeflow.config.Settings;
import dev.changeflow.stack.RedisServer;
import dev.changeflow.stack.StackSettings;
import java.util.HashMap;
import java.util.Map;

/**
 * A {@code redis-server} of a test's own, for tests that stop Redis or read its server-wide statistics: doing that to
 * the JVM's shared Redis would disturb other tests. Always started here, even when {@code CHANGEFLOW_REDIS_URL} points
 * the other tests at an external server, since an external server cannot be stopped.
 */
final class OwnRedis {
    private OwnRedis() {
    }

    static RedisServer start() {
        Map<String, String> values = new HashMap<>();
        Settings.fromEnvironment().raw(StackSettings.STACK_DIR)
                .ifPresent(dir -> values.put(StackSettings.STACK_DIR.key(), dir));
        return RedisServer.start(Settings.of(values));
    }
}
