package dev.changeflow.router.subscription;

import java.time.Duration;
import java.util.Objects;
import org.apache.kafka.common.TopicPartition;

/**
 * A partition that has records waiting and has made no progress for longer than
 * {@link SubscriptionOptions#stallLimit()}: the subscription is alive but not doing its work.
 *
 * @param group the consumer group
 * @param partition the partition stalled longest
 * @param since how long it has made no progress
 * @param reason the last failure of its handler calls, or what it waits for; never null
 */
public record Stall(String group, TopicPartition partition, Duration since, String reason) {

    public Stall {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(partition, "partition");
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(reason, "reason");
    }

    /** One line for an operator, such as {@code search-indexer: stalled 2 min on cdc.tasks-changes-7: IndexWriter closed}. */
    public String describe() {
        long seconds = since.toSeconds();
        String time = seconds >= 120 ? seconds / 60 + " min" : seconds + " s";
        return group + ": stalled " + time + " on " + partition + ": " + reason;
    }
}
