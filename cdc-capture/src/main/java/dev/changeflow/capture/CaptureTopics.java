package dev.changeflow.capture;

import dev.changeflow.config.Settings;
import dev.changeflow.router.StateTopics;
import dev.changeflow.router.TopicRouter;
import dev.changeflow.router.subscription.SubscriptionSettings;
import dev.changeflow.router.topics.TopicProvisioner.TopicSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The topics a capture deployment uses, shaped as our design requires (partitions per table, replication factor,
 * {@code min.insync.replicas}, retention, lz4, segment time), from its settings: what capture provisions at startup and
 * {@code changeflow topics create} creates ahead of it.
 */
public final class CaptureTopics {
    private CaptureTopics() {
    }

    /**
     * One change topic per captured table, its state topic (unless state topics are off), the offsets topic, then the
     * schema topic (when row schemas are on and no registry is configured).
     */
    public static List<TopicSpec> specs(Settings settings) {
        int rf = settings.get(CaptureSettings.REPLICATION_FACTOR);
        int minIsr = settings.get(CaptureSettings.MIN_INSYNC_REPLICAS);
        List<TopicSpec> specs = new ArrayList<>();
        changeTopicPartitions(settings).forEach((topic, partitions) -> specs.add(TopicSpec.changeTopic(topic,
                partitions, rf, minIsr, settings.get(CaptureSettings.RETENTION), settings.get(CaptureSettings.SEGMENT))));
        if (settings.get(CaptureSettings.STATE_TOPICS_ENABLED)) {
            stateTopicPartitions(settings).forEach((topic, partitions) -> specs.add(TopicSpec.stateTopic(topic,
                    partitions, rf, minIsr, settings.get(CaptureSettings.STATE_SEGMENT),
                    settings.get(CaptureSettings.STATE_MIN_COMPACTION_LAG),
                    settings.get(CaptureSettings.STATE_DELETE_RETENTION))));
        }
        specs.add(TopicSpec.offsetsTopic(settings.get(CaptureSettings.OFFSETS_TOPIC), rf, minIsr));
        if (settings.get(CaptureSettings.ROW_SCHEMAS) && settings.find(CaptureSettings.SCHEMA_REGISTRY_URL).isEmpty()) {
            // Compacted, one partition, like the offsets topic: one record per version, read whole at startup.
            specs.add(TopicSpec.offsetsTopic(settings.get(CaptureSettings.SCHEMA_TOPIC), rf, minIsr));
        }
        return specs;
    }

    /**
     * The state topic of every captured table, with the partition count of its change topic (so that a key lands
     * on the same partition number in both), in the order of the tables setting.
     */
    public static Map<String, Integer> stateTopicPartitions(Settings settings) {
        StateTopics stateTopics = StateTopics.fromSettings(settings);
        Map<String, Integer> partitions = partitionsPerTable(settings.get(CaptureSettings.TOPIC_PARTITIONS));
        int fallback = partitions.values().iterator().next();
        Map<String, Integer> topics = new LinkedHashMap<>();
        for (String table : Arrays.stream(settings.get(CaptureSettings.TABLES).split(",")).map(String::trim).toList()) {
            String bare = table.substring(table.indexOf('.') + 1);
            topics.put(stateTopics.topicFor(bare), partitions.getOrDefault(bare, fallback));
        }
        return topics;
    }

    /** {@link #specs} plus the dead-letter topic of every change topic (which consumers otherwise create). */
    public static List<TopicSpec> specsWithDeadLetters(Settings settings) {
        int rf = settings.get(CaptureSettings.REPLICATION_FACTOR);
        int minIsr = settings.get(CaptureSettings.MIN_INSYNC_REPLICAS);
        List<TopicSpec> specs = new ArrayList<>(specs(settings));
        changeTopicPartitions(settings).forEach((topic, partitions) -> specs.add(TopicSpec.deadLetterTopic(
                TopicRouter.deadLetterTopicFor(topic), partitions, rf, minIsr,
                settings.get(SubscriptionSettings.DEAD_LETTER_RETENTION))));
        return specs;
    }

    /** The change topic of every captured table, with its partition count, in the order of the tables setting. */
    public static Map<String, Integer> changeTopicPartitions(Settings settings) {
        TopicRouter router = TopicRouter.fromSettings(settings);
        Map<String, Integer> partitions = partitionsPerTable(settings.get(CaptureSettings.TOPIC_PARTITIONS));
        int fallback = partitions.values().iterator().next();
        Map<String, Integer> topics = new LinkedHashMap<>();
        for (String table : Arrays.stream(settings.get(CaptureSettings.TABLES).split(",")).map(String::trim).toList()) {
            String bare = table.substring(table.indexOf('.') + 1);
            topics.put(router.topicFor(bare), partitions.getOrDefault(bare, fallback));
        }
        return topics;
    }

    static Map<String, Integer> partitionsPerTable(String value) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (String pair : value.split(",")) {
            String[] kv = pair.trim().split("=");
            out.put(kv[0], Integer.parseInt(kv[1]));
        }
        return out;
    }
}
