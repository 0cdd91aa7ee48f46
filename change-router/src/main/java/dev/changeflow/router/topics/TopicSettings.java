package dev.changeflow.router.topics;

import dev.changeflow.config.Setting;
import java.time.Duration;
import java.util.List;

/**
 * How Changeflow's topics are shaped, from our design documents: what capture provisions, what
 * {@code changeflow topics create} and {@code POST /topic} create, and what dead-letter topics inherit.
 */
public final class TopicSettings {

    public static final Setting<Integer> REPLICATION_FACTOR = Setting.integer("changeflow.topics.replication-factor",
            "Replication factor of the change topics and the offsets topic (1 on a single local broker).", 3, 1, 16);

    public static final Setting<Integer> MIN_INSYNC_REPLICAS = Setting.integer("changeflow.topics.min-insync-replicas",
            "min.insync.replicas of the change topics; with acks=all a write needs this many replicas.", 2, 1, 16);

    public static final Setting<Duration> RETENTION = Setting.duration("changeflow.topics.retention",
            "How long change topics keep events, the window for replays.", Duration.ofDays(7));

    public static final Setting<Duration> SEGMENT = Setting.duration("changeflow.topics.segment",
            "segment.ms of the change topics.", Duration.ofHours(1));

    /** Every setting above, in documentation order. */
    public static final List<Setting<?>> ALL = List.of(REPLICATION_FACTOR, MIN_INSYNC_REPLICAS, RETENTION, SEGMENT);

    private TopicSettings() {
    }
}
