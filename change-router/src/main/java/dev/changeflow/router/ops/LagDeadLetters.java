package dev.changeflow.router.ops;

import dev.changeflow.router.TopicRouter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

/** The records present on dead-letter topics: for {@link LagMonitor}'s {@code changeflow.dlt.records}. */
final class LagDeadLetters {
    static final String SUFFIX = TopicRouter.deadLetterTopicFor("");

    private LagDeadLetters() {
    }

    /**
     * Per topic whose name ends in {@code .dlt}, the records still in it (end minus start offset, summed over its
     * partitions), sorted by topic. Blocking.
     */
    static Map<String, Long> records(Admin admin) throws InterruptedException, ExecutionException {
        List<String> topics = admin.listTopics().names().get().stream().filter(t -> t.endsWith(SUFFIX)).sorted()
                .toList();
        Map<String, Long> records = new TreeMap<>();
        if (topics.isEmpty()) {
            return records;
        }
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        admin.describeTopics(topics).allTopicNames().get().values().forEach(d -> d.partitions().forEach(p -> {
            TopicPartition tp = new TopicPartition(d.name(), p.partition());
            latest.put(tp, OffsetSpec.latest());
            earliest.put(tp, OffsetSpec.earliest());
        }));
        Map<TopicPartition, ListOffsetsResultInfo> ends = admin.listOffsets(latest).all().get();
        Map<TopicPartition, ListOffsetsResultInfo> starts = admin.listOffsets(earliest).all().get();
        topics.forEach(t -> records.put(t, 0L));
        ends.forEach((tp, end) -> records.merge(tp.topic(), Math.max(0, end.offset() - starts.get(tp).offset()),
                Long::sum));
        return records;
    }
}
