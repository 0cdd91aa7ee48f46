package dev.changeflow.router.subscription;

import dev.changeflow.config.Setting;
import java.time.Duration;
import java.util.List;

/**
 * Every setting of the subscription runtime, declared once with its description, default and validation. They apply
 * to every consumer group in the process; {@link SubscriptionOptions#from} reads them.
 */
public final class SubscriptionSettings {

    /** Where a group with no committed offset starts. */
    public enum OffsetReset {
        /** From the oldest retained record: nothing published before the group first started is missed. */
        EARLIEST,
        /** From records published after the group first started. */
        LATEST
    }

    public static final int DEFAULT_MAX_IN_FLIGHT = 2048;
    public static final int DEFAULT_CONCURRENCY = 4;
    public static final int DEFAULT_BATCH_SIZE = 128;
    public static final int DEFAULT_RETRIES = 3;

    public static final Setting<Integer> MAX_IN_FLIGHT = Setting.integer("changeflow.subscription.max-in-flight",
            "Upper bound on records fetched from Kafka and not yet finished (handled and acknowledged, or "
                    + "dead-lettered), across all partitions of one subscription. When it is reached the consumer "
                    + "pauses fetching but keeps polling, so a slow handler slows consumption without growing memory "
                    + "or overrunning max.poll.interval.ms. Must be at least 4 x poll batch + 2 x concurrency x "
                    + "batch-size + concurrency.",
            DEFAULT_MAX_IN_FLIGHT, 16, 1_000_000);

    public static final Setting<Integer> CONCURRENCY = Setting.integer("changeflow.subscription.concurrency",
            "How many partitions are handled at the same time. Each partition is handled in order by one of this "
                    + "many lanes; a partition keeps its lane while it stays assigned.",
            DEFAULT_CONCURRENCY, 1, 256);

    public static final Setting<Integer> BATCH_SIZE = Setting.integer("changeflow.subscription.batch-size",
            "Most events handed to a batch handler at once (per-event handlers get one at a time).",
            DEFAULT_BATCH_SIZE, 1, 10_000);

    public static final Setting<Duration> BATCH_WAIT = Setting.duration("changeflow.subscription.batch-wait",
            "Longest a batch handler's batch waits to fill up before it is handled partly full.",
            Duration.ofMillis(5));

    public static final Setting<Integer> RETRIES = Setting.integer("changeflow.subscription.retries",
            "Retries of a failing handler call (exponential backoff) before its event goes to <topic>.dlt. "
                    + "Outages are retried without limit instead.",
            DEFAULT_RETRIES, 0, 100);

    public static final Setting<Duration> RETRY_BACKOFF = Setting.duration("changeflow.subscription.retry-backoff",
            "Delay before the first retry of a failed handler call; it doubles (with jitter) on each retry.",
            Duration.ofMillis(100));

    public static final Setting<Duration> RETRY_MAX_BACKOFF = Setting.duration(
            "changeflow.subscription.retry-max-backoff", "Longest delay between retries of a failed handler call.",
            Duration.ofSeconds(2));

    public static final Setting<Duration> OUTAGE_BACKOFF = Setting.duration("changeflow.subscription.outage-backoff",
            "Delay before the first retry while a dependency (Redis, the search engine, Kafka) is unreachable; it "
                    + "doubles on each retry up to the outage maximum, without limit on the number of retries.",
            Duration.ofMillis(200));

    public static final Setting<Duration> OUTAGE_MAX_BACKOFF = Setting.duration(
            "changeflow.subscription.outage-max-backoff",
            "Longest delay between retries during an outage: also how late, at most, recovery is noticed.",
            Duration.ofSeconds(2));

    public static final Setting<Duration> HANDLER_TIMEOUT = Setting.duration("changeflow.subscription.handler-timeout",
            "A handler call that has not completed after this long is cancelled and treated as an outage (retried "
                    + "without limit), never as a reason to dead-letter. Cancelling never interrupts a thread: each "
                    + "consumer ends its in-flight work its own way (the search indexer lets it finish and drops its "
                    + "result; the cache invalidator cancels its Redis commands).",
            Duration.ofSeconds(30));

    public static final Setting<Duration> COMMIT_INTERVAL = Setting.duration("changeflow.subscription.commit-interval",
            "How often offsets of finished records are committed. A crash re-delivers at most this much.",
            Duration.ofMillis(200));

    public static final Setting<Duration> REBALANCE_DRAIN_TIMEOUT = Setting.duration(
            "changeflow.subscription.rebalance-drain-timeout",
            "On a rebalance, how long the consumer waits for records already fetched to finish and be committed "
                    + "before it gives its partitions up. Records not finished by then are handled by the new owner.",
            Duration.ofSeconds(10));

    public static final Setting<Duration> SHUTDOWN_TIMEOUT = Setting.duration(
            "changeflow.subscription.shutdown-timeout",
            "On close, how long records already being handled may take to finish before the consumer is closed "
                    + "anyway (unfinished ones are not committed, so the next owner handles them).",
            Duration.ofSeconds(30));

    public static final Setting<OffsetReset> AUTO_OFFSET_RESET = Setting.oneOf(
            "changeflow.subscription.auto-offset-reset",
            "Where a consumer group without committed offsets starts: earliest or latest.",
            OffsetReset.class, OffsetReset.EARLIEST);

    public static final Setting<Boolean> VALIDATE_SCHEMA = Setting.bool("changeflow.subscription.validate-schema",
            "Check each record against the change event JSON Schema before decoding it; a record that fails goes "
                    + "to the dead-letter topic.",
            true);

    public static final Setting<Duration> DEAD_LETTER_RETENTION = Setting.duration(
            "changeflow.subscription.dead-letter-retention",
            "Retention of the <topic>.dlt topics the runtime creates: long enough to investigate and replay.",
            Duration.ofDays(30));

    public static final Setting<Duration> LAG_INTERVAL = Setting.duration("changeflow.subscription.lag-interval",
            "How often the per-partition lag gauge is refreshed, and an idle, caught-up partition of a transactional "
                    + "topic is committed past its transaction markers (so its committed lag reads 0, not 1).",
            Duration.ofSeconds(5));

    public static final Setting<Duration> STARTUP_TIMEOUT = Setting.duration("changeflow.subscription.startup-timeout",
            "How long startup waits for Kafka to answer and for the subscribed topics to exist.",
            Duration.ofSeconds(30));

    public static final Setting<Duration> STALL_LIMIT = Setting.duration("changeflow.subscription.stall-limit",
            "A partition with records waiting that has made no progress for longer than this is stalled: the "
                    + "service reports not ready (/ready 503, with the partition and the last failure) and the gauge "
                    + "changeflow_subscription_stalled turns 1, until it moves again. Longer than the handler timeout, "
                    + "so a slow batch is not a stall.",
            Duration.ofMinutes(2));

    /** Every subscription setting, in documentation order. */
    public static final List<Setting<?>> SETTINGS = List.of(MAX_IN_FLIGHT, CONCURRENCY, BATCH_SIZE, BATCH_WAIT, RETRIES,
            RETRY_BACKOFF, RETRY_MAX_BACKOFF, OUTAGE_BACKOFF, OUTAGE_MAX_BACKOFF, HANDLER_TIMEOUT, COMMIT_INTERVAL,
            REBALANCE_DRAIN_TIMEOUT, SHUTDOWN_TIMEOUT, AUTO_OFFSET_RESET, VALIDATE_SCHEMA, DEAD_LETTER_RETENTION,
            LAG_INTERVAL, STARTUP_TIMEOUT, STALL_LIMIT);

    private SubscriptionSettings() {
    }
}
