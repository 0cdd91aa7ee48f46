package dev.changeflow.indexer;

import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import dev.changeflow.router.StateTopics;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * State topics of a harness's own ({@code <id>.task-state}, {@code <id>.project-state}), written by the test as capture
 * writes them: one state record per change record, same key, the event as value, a delete as a tombstone with the
 * delete event in its header. The test copies the change topics into them while nothing is being captured, which
 * gives what capture's transactions guarantee: every change record has its state record.
 */
final class StateTopicsFixture {
    private final IndexerHarness h;
    private final Map<String, String> topics;

    StateTopicsFixture(IndexerHarness h) {
        this.h = h;
        this.topics = Map.of("tasks", h.id + ".task-state", "projects", h.id + ".project-state");
        h.with("CHANGEFLOW_ROUTER_STATE_TOPICS", "tasks=" + topics.get("tasks") + ",projects="
                + topics.get("projects"));
    }

    /** Creates the two compacted topics. */
    StateTopicsFixture create() throws Exception {
        Map<String, String> compacted = Map.of("cleanup.policy", "compact");
        h.admin.createTopics(List.of(
                new NewTopic(topics.get("tasks"), 4, (short) 1).configs(compacted),
                new NewTopic(topics.get("projects"), 2, (short) 1).configs(compacted))).all().get();
        return this;
    }

    /**
     * Writes a state record for every change record of the change topics at or after {@code from} (offsets per
     * partition; an absent partition from its start), in offset order per partition; returns the offsets to continue
     * from next time.
     */
    Map<TopicPartition, Long> copyChangeTopics(Map<TopicPartition, Long> from) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, h.world.kafka.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        Map<TopicPartition, Long> next = new java.util.HashMap<>(from);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                new ByteArraySerializer())) {
            for (String table : List.of("projects", "tasks")) {
                for (ConsumerRecord<String, byte[]> record : h.records(table)) {
                    TopicPartition partition = new TopicPartition(record.topic(), record.partition());
                    if (record.offset() < from.getOrDefault(partition, 0L)) {
                        continue;
                    }
                    ChangeEvent event = ChangeEventCodec.decode(record.value());
                    RecordHeaders headers = new RecordHeaders();
                    byte[] value = StateTopics.valueOf(event);
                    if (value == null) {
                        headers.add(StateTopics.DELETE_EVENT_HEADER, ChangeEventCodec.encode(event));
                    }
                    producer.send(new ProducerRecord<>(topics.get(table), null, event.kafkaKey(), value, headers));
                    next.merge(partition, record.offset() + 1, Math::max);
                }
            }
            producer.flush();
        }
        return next;
    }
}
