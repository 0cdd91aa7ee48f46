package dev.changeflow.invalidator;

import dev.changeflow.config.Setting;
import dev.changeflow.router.RouterSettings;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Every setting of the cache invalidator, declared once with its description, default and validation. Where the
 * servers are comes from {@link dev.changeflow.config.ConnectionSettings} (Redis, Kafka, and Postgres, whose
 * {@code information_schema} the rules are checked against at startup); how the group consumes comes from
 * {@link dev.changeflow.router.subscription.SubscriptionSettings}; topic names from {@link RouterSettings}.
 */
public final class InvalidatorSettings {

    /** Classpath resource holding the rules used when {@link #RULES_FILE} is unset. */
    public static final String DEFAULT_RULES_RESOURCE = "dev/changeflow/invalidator/default-rules.yaml";

    /** Default of {@link #GROUP}. */
    public static final String DEFAULT_GROUP = "cache-invalidator";

    /** Default of {@link #UNLINK_CHUNK_SIZE}. */
    public static final int DEFAULT_UNLINK_CHUNK_SIZE = 500;

    /** Default of {@link #REDIS_COMMAND_TIMEOUT}. */
    public static final Duration DEFAULT_REDIS_COMMAND_TIMEOUT = Duration.ofSeconds(5);

    /** Default of {@link #REDIS_RECONNECT_MAX_DELAY}. */
    public static final Duration DEFAULT_REDIS_RECONNECT_MAX_DELAY = Duration.ofSeconds(1);

    private static final String GROUP_OR_TOPIC_CHARS = "[a-zA-Z0-9._-]{1,249}";

    public static final Setting<String> RULES_FILE = Setting.string("changeflow.invalidator.rules-file",
            "Path of the YAML file that names, per table, the Redis key templates a change makes stale, such as "
                    + "task:{id} (see the rules format in the cache-invalidator documentation). Every template is "
                    + "checked against the table's columns in Postgres at startup. When unset, the rules shipped in "
                    + "the classpath resource " + DEFAULT_RULES_RESOURCE + " are used.",
            null);

    public static final Setting<String> GROUP = Setting.string("changeflow.invalidator.group",
            "Kafka consumer group of the cache invalidator. Every instance with the same group shares the "
                    + "partitions; a second group would invalidate everything a second time.",
            DEFAULT_GROUP)
            .withValidation("1 to 249 of a-z A-Z 0-9 . _ -", v -> v.matches(GROUP_OR_TOPIC_CHARS));

    public static final Setting<String> TOPICS = Setting.string("changeflow.invalidator.topics",
            "Comma-separated change topics to consume. When unset, the topic of each table in the rules, as "
                    + "named by " + RouterSettings.TOPIC_REPLACEMENT.key() + " (with the default rules and router: "
                    + "cdc.tasks-changes,cdc.projects-changes). When set, it must be exactly those topics: a table "
                    + "whose topic is missing would never be invalidated, a topic without rules would be read for "
                    + "nothing.",
            null)
            .withValidation("a comma-separated list of Kafka topic names (a-z A-Z 0-9 . _ -)",
                    v -> Arrays.stream(v.split(",")).allMatch(t -> t.trim().matches(GROUP_OR_TOPIC_CHARS)));

    public static final Setting<Integer> UNLINK_CHUNK_SIZE = Setting.integer("changeflow.invalidator.unlink-chunk-size",
            "Most keys per UNLINK command. A batch of events costs one UNLINK per this many distinct keys, sent "
                    + "pipelined on one connection; smaller chunks keep each command short on a busy Redis.",
            DEFAULT_UNLINK_CHUNK_SIZE, 1, 100_000);

    public static final Setting<Duration> REDIS_COMMAND_TIMEOUT = Setting.duration(
            "changeflow.invalidator.redis-command-timeout",
            "How long a Redis command may take before it fails; the failure counts as a Redis outage, so the batch "
                    + "is retried (without limit) rather than dead-lettered. Also the connect timeout. Default "
                    + DEFAULT_REDIS_COMMAND_TIMEOUT.toSeconds() + "s.",
            DEFAULT_REDIS_COMMAND_TIMEOUT)
            .withValidation("a duration from 10ms to 5m", d -> isBetween(d, Duration.ofMillis(10),
                    Duration.ofMinutes(5)));

    public static final Setting<Duration> REDIS_RECONNECT_MAX_DELAY = Setting.duration(
            "changeflow.invalidator.redis-reconnect-max-delay",
            "Longest pause between attempts to reconnect to Redis after the connection is lost (the pause starts "
                    + "small and doubles): how late, at most, the client notices that Redis is back. While it is "
                    + "disconnected, commands fail at once and count as an outage.",
            DEFAULT_REDIS_RECONNECT_MAX_DELAY)
            .withValidation("a duration from 10ms to 5m", d -> isBetween(d, Duration.ofMillis(10),
                    Duration.ofMinutes(5)));

    /** Every setting above, in documentation order. */
    public static final List<Setting<?>> SETTINGS = List.of(RULES_FILE, GROUP, TOPICS, UNLINK_CHUNK_SIZE,
            REDIS_COMMAND_TIMEOUT, REDIS_RECONNECT_MAX_DELAY);

    private InvalidatorSettings() {
    }

    private static boolean isBetween(Duration value, Duration min, Duration max) {
        return value.compareTo(min) >= 0 && value.compareTo(max) <= 0;
    }
}
