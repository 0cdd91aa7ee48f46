package dev.changeflow.router.topics;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

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

    /**
     * Reads the lag of {@code group} on every partition of {@code topics}. Blocking; uses the admin client's timeouts.
     *
     * @throws ExecutionException if Kafka answered with an error, such as an unknown topic
     */
    public static ConsumerLag of(Admin admin, String group, Collection<String> topics)
            throws InterruptedException, ExecutionException {
        Map<String, TopicDescription> descriptions = admin.describeTopics(topics).allTopicNames().get();
        List<TopicPartition> partitions = new ArrayList<>();
        descriptions.values().forEach(d -> d.partitions()
                .forEach(p -> partitions.add(new TopicPartition(d.name(), p.partition()))));
        Map<TopicPartition, OffsetAndMetadata> committed =
                admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
        ListOffsetsOptions readCommitted = new ListOffsetsOptions(IsolationLevel.READ_COMMITTED);
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        partitions.forEach(tp -> {
            latest.put(tp, OffsetSpec.latest());
            earliest.put(tp, OffsetSpec.earliest());
        });
        Map<TopicPartition, ListOffsetsResultInfo> ends = admin.listOffsets(latest, readCommitted).all().get();
        Map<TopicPartition, ListOffsetsResultInfo> starts = admin.listOffsets(earliest, readCommitted).all().get();
        List<PartitionLag> result = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            long end = ends.get(tp).offset();
            OffsetAndMetadata c = committed.get(tp);
            long from = c != null ? c.offset() : starts.get(tp).offset();
            result.add(new PartitionLag(tp, c != null ? c.offset() : -1, end, Math.max(0, end - from)));
        }
        result.sort(Comparator.comparing((PartitionLag p) -> p.partition().topic())
                .thenComparingInt(p -> p.partition().partition()));
        return new ConsumerLag(group, List.copyOf(result));
    }
}
