package dev.changeflow.capture.testing;

import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A team joining late: reads a state topic from its beginning to its end ({@code read_committed}) and rebuilds the
 * table from it, the latest record per key winning and a tombstone removing the row.
 */
public final class StateTopicReader {
    /** The rebuilt table: task id to its latest event, and how many records were read. */
    public record Copy(Map<String, ChangeEvent> rows, long records, long tombstones) {
        /** Each row's title: what the tests compare with {@link #titlesInDatabase}. */
        public Map<String, String> titles() {
            Map<String, String> out = new HashMap<>();
            rows.forEach((id, event) -> out.put(id, (String) event.after().get("title")));
            return out;
        }
    }

    /** Each task's title in {@code app.tasks}, by id. */
    public static Map<String, String> titlesInDatabase(java.sql.Connection c) throws java.sql.SQLException {
        Map<String, String> out = new HashMap<>();
        try (var s = c.createStatement(); var rs = s.executeQuery("SELECT id, title FROM app.tasks")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getString(2));
            }
        }
        return out;
    }

    private StateTopicReader() {
    }

    public static Copy read(String bootstrap, String topic) {
        Map<String, ChangeEvent> rows = new HashMap<>();
        long records = 0;
        long tombstones = 0;
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000), new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("could not read " + topic + " to its end within 2 minutes");
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    records++;
                    String id = r.key().substring(r.key().indexOf(':') + 1);
                    if (r.value() == null) {
                        tombstones++;
                        rows.remove(id);
                    } else {
                        rows.put(id, ChangeEventCodec.decode(r.value()));
                    }
                }
            }
        }
        return new Copy(rows, records, tombstones);
    }
}
