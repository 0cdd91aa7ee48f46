package dev.changeflow.router.topics;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;

/**
 * How far a consumer group is behind, as an operator sees it: per partition, the committed offset against the last
 * stable offset (read_committed, so open or aborted transactions do not count as lag).
 *
 * @param group the consumer group
 * @param partitions one entry per partition of the topics asked about, sorted by topic and partition
 */
public record ConsumerLag(String group, List<PartitionLag> partitions) {

    /**
     * One partition's position.
     *
     * @param committed the group's committed offset, or -1 if it has none (then lag counts from the log start)
     * @param end the last stable offset
     * @param lag records not yet committed by the group; never negative
     */
    public record PartitionLag(TopicPartition partition, long committed, long end, long lag) {
    }

    /** The sum of every partition's lag. */
    public long total() {
        return partitions.stream().mapToLong(PartitionLag::lag).sum();
    }

    /** The sum of the lag of {@code topic}'s partitions; 0 for a topic not in this lag. */
    public long total(String topic) {
        return partitions.stream().filter(p -> p.partition().topic().equals(topic)).mapToLong(PartitionLag::lag)
                .sum();
    }

    /** The topics of {@link #partitions()}, sorted. */
    public Set<String> topics() {
        Set<String> topics = new TreeSet<>();
        partitions.forEach(p -> topics.add(p.partition().topic()));
        return topics;
    }

    /**
     * Reads the lag of {@code group} on every partition of {@code topics}. Blocking; uses the admin client's timeouts.
     *
     * @throws ExecutionException if Kafka answered with an error, such as an unknown topic
     */
    public static ConsumerLag of(Admin admin, String group, Collection<String> topics)
            throws InterruptedException, ExecutionException {
        Map<TopicPartition, OffsetAndMetadata> committed =
                admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
        return read(admin, Map.of(group, List.copyOf(topics)), Map.of(group, committed)).get(0);
    }

    /**
     * Reads the lag of each of {@code groups} on every partition of the topics it has committed offsets for, with one
     * request per kind of information for all groups together. A group that does not exist, has no committed offsets,
     * or has them only for topics that no longer exist, is left out. Blocking; uses the admin client's timeouts.
     *
     * @return one entry per group left in, in the order of {@code groups}; never null
     * @throws ExecutionException if Kafka answered with an error
     */
    public static List<ConsumerLag> ofCommittedTopics(Admin admin, Collection<String> groups)
            throws InterruptedException, ExecutionException {
        if (groups.isEmpty()) {
            return List.of();
        }
        Map<String, ListConsumerGroupOffsetsSpec> specs = new LinkedHashMap<>();
        groups.forEach(g -> specs.put(g, new ListConsumerGroupOffsetsSpec()));
        var result = admin.listConsumerGroupOffsets(specs);
        Set<String> existing = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get();
        Map<String, Map<TopicPartition, OffsetAndMetadata>> committedByGroup = new LinkedHashMap<>();
        Map<String, List<String>> topicsByGroup = new LinkedHashMap<>();
        for (String group : specs.keySet()) {
            Map<TopicPartition, OffsetAndMetadata> committed;
            try {
                committed = result.partitionsToOffsetAndMetadata(group).get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof GroupIdNotFoundException) {
                    continue; // deleted between listing and reading: nothing to report
                }
                throw e;
            }
            Set<String> topics = new TreeSet<>();
            committed.forEach((tp, offset) -> {
                if (offset != null && existing.contains(tp.topic())) {
                    topics.add(tp.topic());
                }
            });
            if (!topics.isEmpty()) {
                committedByGroup.put(group, committed);
                topicsByGroup.put(group, List.copyOf(topics));
            }
        }
        return topicsByGroup.isEmpty() ? List.of() : read(admin, topicsByGroup, committedByGroup);
    }

    private static List<ConsumerLag> read(Admin admin, Map<String, List<String>> topicsByGroup,
            Map<String, Map<TopicPartition, OffsetAndMetadata>> committedByGroup)
            throws InterruptedException, ExecutionException {
        Set<String> allTopics = new TreeSet<>();
        topicsByGroup.values().forEach(allTopics::addAll);
        Map<String, TopicDescription> descriptions = admin.describeTopics(allTopics).allTopicNames().get();
        Map<String, List<TopicPartition>> partitionsByTopic = new TreeMap<>();
        descriptions.values().forEach(d -> d.partitions().forEach(p -> partitionsByTopic
                .computeIfAbsent(d.name(), t -> new ArrayList<>()).add(new TopicPartition(d.name(), p.partition()))));
        ListOffsetsOptions readCommitted = new ListOffsetsOptions(IsolationLevel.READ_COMMITTED);
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        partitionsByTopic.values().forEach(ps -> ps.forEach(tp -> {
            latest.put(tp, OffsetSpec.latest());
            earliest.put(tp, OffsetSpec.earliest());
        }));
        Map<TopicPartition, ListOffsetsResultInfo> ends = admin.listOffsets(latest, readCommitted).all().get();
        Map<TopicPartition, ListOffsetsResultInfo> starts = admin.listOffsets(earliest, readCommitted).all().get();
        List<ConsumerLag> lags = new ArrayList<>();
        topicsByGroup.forEach((group, topics) -> {
            Map<TopicPartition, OffsetAndMetadata> committed = committedByGroup.get(group);
            List<PartitionLag> result = new ArrayList<>();
            for (String topic : topics) {
                for (TopicPartition tp : partitionsByTopic.getOrDefault(topic, List.of())) {
                    long end = ends.get(tp).offset();
                    OffsetAndMetadata c = committed.get(tp);
                    long from = c != null ? c.offset() : starts.get(tp).offset();
                    result.add(new PartitionLag(tp, c != null ? c.offset() : -1, end, Math.max(0, end - from)));
                }
            }
            result.sort(Comparator.comparing((PartitionLag p) -> p.partition().topic())
                    .thenComparingInt(p -> p.partition().partition()));
            lags.add(new ConsumerLag(group, List.copyOf(result)));
        });
        return lags;
    }
}
