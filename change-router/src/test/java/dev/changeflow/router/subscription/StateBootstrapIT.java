package dev.changeflow.router.subscription;

import static dev.changeflow.router.subscription.SubscriptionKit.header;
import static dev.changeflow.router.subscription.SubscriptionKit.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import dev.changeflow.router.ChangeHeaders;
import dev.changeflow.router.Op;
import dev.changeflow.router.Source;
import dev.changeflow.router.StateTopics;
import dev.changeflow.stack.KafkaServer;
import dev.changeflow.stack.SharedServers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * A consumer that joins late bootstraps from a compacted state topic ({@link StateTopics}), written the way capture
 * writes it: in Kafka transactions, the latest event of each row as value, a delete as a tombstone carrying the delete
 * event in a header.
 */
class StateBootstrapIT {

    @Test
    void aLateConsumerGetsEveryRowAndDeleteOfTheStateTopicIsToldWhenItCaughtUpAndThenFollowsNewRecords()
            throws Exception {
        try (StateTopic state = new StateTopic(3)) {
            ChangeEvent first = create(1, 10);
            ChangeEvent second = create(2, 11);
            ChangeEvent secondEdited = update(second, 20);
            ChangeEvent third = create(3, 12);
            ChangeEvent thirdDeleted = delete(third, 21);
            ChangeEvent fourth = create(4, 13);
            state.commit(List.of(live(first), live(second), live(third), live(fourth)));
            state.commit(List.of(live(secondEdited), tombstone(thirdDeleted),
                    tombstoneWithoutHeader(delete(fourth, 22))));
            state.abort(List.of(live(update(first, 30))));
            Queue<ChangeEvent> handled = new ConcurrentLinkedQueue<>();

            try (Subscription subscription = state.builder()
                    .onEach(e -> Mono.fromRunnable(() -> handled.add(e))).start()) {
                assertThat(subscription.caughtUpWithState()).succeedsWithin(Duration.ofSeconds(30));

                assertThat(ids(handled)).as("every committed state record handled once, the delete from its header")
                        .containsExactlyInAnyOrderElementsOf(ids(List.of(first, second, third, fourth,
                                secondEdited, thirdDeleted)));
                assertThat(latestPerKey(handled)).as("each row's latest event handled last")
                        .containsEntry("tasks:task-1", first.eventId())
                        .containsEntry("tasks:task-2", secondEdited.eventId())
                        .containsEntry("tasks:task-3", thirdDeleted.eventId());
                assertThat(handled).filteredOn(e -> e.op() == Op.DELETE).singleElement()
                        .satisfies(e -> assertDelete(e, thirdDeleted));

                List<ConsumerRecord<String, byte[]>> dead = state.deadLetters(1, Duration.ofSeconds(10));
                assertThat(dead).singleElement().satisfies(record -> {
                    assertThat(record.key()).isEqualTo("tasks:task-4");
                    assertThat(record.value()).as("the tombstone as it was").isNull();
                    assertThat(header(record, DeadLetterHeaders.REASON))
                            .isEqualTo(DeadLetterHeaders.REASON_UNDECODABLE);
                    assertThat(header(record, DeadLetterHeaders.ERROR_MESSAGE))
                            .contains("tombstone without its " + StateTopics.DELETE_EVENT_HEADER + " header");
                    assertThat(header(record, DeadLetterHeaders.ORIGINAL_TOPIC)).isEqualTo(state.topic);
                });

                ChangeEvent fifth = create(5, 40);
                ChangeEvent firstDeleted = delete(first, 41);
                state.commit(List.of(live(fifth), tombstone(firstDeleted)));

                await("the records written after the start handled").atMost(Duration.ofSeconds(30))
                        .untilAsserted(() -> assertThat(ids(handled)).contains(fifth.eventId(), firstDeleted.eventId()));
                assertThat(handled).filteredOn(e -> e.eventId().equals(firstDeleted.eventId())).singleElement()
                        .satisfies(e -> assertDelete(e, firstDeleted));
            }
        }
    }

    @Test
    void caughtUpWithStateWaitsUntilTheLastStateRecordPresentAtTheStartIsHandled() throws Exception {
        try (StateTopic state = new StateTopic(2)) {
            List<ChangeEvent> rows = new ArrayList<>();
            for (int row = 1; row <= 6; row++) {
                rows.add(create(row, 100 + row));
            }
            state.commit(rows.stream().map(StateBootstrapIT::live).toList());
            ChangeEvent slow = rows.get(5);
            CompletableFuture<Void> release = new CompletableFuture<>();
            Queue<ChangeEvent> handled = new ConcurrentLinkedQueue<>();

            try (Subscription subscription = state.builder(options("changeflow.subscription.handler-timeout", "60s"))
                    .onEach(e -> (e.eventId().equals(slow.eventId()) ? Mono.fromFuture(release) : Mono.<Void>empty())
                            .then(Mono.fromRunnable(() -> handled.add(e)))).start()) {
                try {
                    await("every other row handled").atMost(Duration.ofSeconds(30))
                            .until(() -> handled.size() == rows.size() - 1);
                    await("not caught up while the last row's handler runs").during(Duration.ofSeconds(1))
                            .atMost(Duration.ofSeconds(5)).until(() -> !subscription.caughtUpWithState().isDone());
                } finally {
                    release.complete(null);
                }

                assertThat(subscription.caughtUpWithState()).succeedsWithin(Duration.ofSeconds(30));
                assertThat(ids(handled)).containsExactlyInAnyOrderElementsOf(ids(rows));
            }
        }
    }

    @Test
    void aGroupThatCaughtUpBeforeIsCaughtUpAgainAfterARestartWithoutReadingTheStateAgain() throws Exception {
        try (StateTopic state = new StateTopic(2)) {
            state.commit(List.of(live(create(1, 10)), live(create(2, 11)), tombstone(delete(create(3, 5), 12))));
            Queue<ChangeEvent> handled = new ConcurrentLinkedQueue<>();
            try (Subscription subscription = state.builder()
                    .onEach(e -> Mono.fromRunnable(() -> handled.add(e))).start()) {
                assertThat(subscription.caughtUpWithState()).succeedsWithin(Duration.ofSeconds(30));
                assertThat(handled).hasSize(3);
            }

            Queue<ChangeEvent> handledAfterRestart = new ConcurrentLinkedQueue<>();
            try (Subscription restarted = state.builder()
                    .onEach(e -> Mono.fromRunnable(() -> handledAfterRestart.add(e))).start()) {
                assertThat(restarted.caughtUpWithState()).succeedsWithin(Duration.ofSeconds(30));
                await("nothing read again").during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
                        .until(handledAfterRestart::isEmpty);
            }
        }
    }

    @Test
    void aSubscriptionOfEmptyStateTopicsIsCaughtUpAtOnce() throws Exception {
        try (StateTopic state = new StateTopic(2);
                Subscription subscription = state.builder().onEach(e -> Mono.empty()).start()) {
            assertThat(subscription.caughtUpWithState()).isCompleted();
        }
    }

    @Test
    void changeTopicsAndStateTopicsCannotBeMixedAndOnlyAStateSubscriptionCatchesUpWithState() throws Exception {
        KafkaServer kafka = SharedServers.kafka();
        assertThatThrownBy(() -> Subscription.builder(kafka.bootstrapServers(), "mixed")
                .topics("cdc.tasks-changes").fromState("task.state.snapshots").onEach(e -> Mono.empty()).start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not both");
        try (SubscriptionKit kit = new SubscriptionKit(1);
                Subscription changes = kit.start(kit.builder().options(options()).onEach(e -> Mono.empty()))) {
            assertThatThrownBy(changes::caughtUpWithState).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("fromState");
        }
    }

    // --- state records as capture writes them

    private static ChangeEvent create(int row, long lsn) {
        Map<String, Object> after = Map.of("id", "task-" + row, "title", "row " + row + " at " + lsn);
        return ChangeEvent.of(Op.CREATE, "tasks", Map.of("id", "task-" + row), null, after, source(lsn));
    }

    private static ChangeEvent update(ChangeEvent previous, long lsn) {
        Map<String, Object> after = new HashMap<>(previous.after());
        after.put("title", "edited at " + lsn);
        return ChangeEvent.of(Op.UPDATE, "tasks", previous.key(), previous.after(), after, source(lsn));
    }

    private static ChangeEvent delete(ChangeEvent previous, long lsn) {
        return ChangeEvent.of(Op.DELETE, "tasks", previous.key(), previous.after(), null, source(lsn));
    }

    private static Source source(long lsn) {
        return new Source(lsn, lsn, Instant.now(), false);
    }

    /** The state record of a row's latest change: the event as value. */
    private static ProducerRecord<String, byte[]> live(ChangeEvent event) {
        return record(event, StateTopics.valueOf(event), headers(event));
    }

    /** The state record of a delete: a tombstone with the delete event in its header. */
    private static ProducerRecord<String, byte[]> tombstone(ChangeEvent delete) {
        RecordHeaders headers = headers(delete);
        headers.add(StateTopics.DELETE_EVENT_HEADER, ChangeEventCodec.encode(delete));
        return record(delete, StateTopics.valueOf(delete), headers);
    }

    /** A malformed state record: a tombstone that does not say what was deleted. */
    private static ProducerRecord<String, byte[]> tombstoneWithoutHeader(ChangeEvent delete) {
        return record(delete, null, headers(delete));
    }

    private static RecordHeaders headers(ChangeEvent event) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(ChangeHeaders.OP, event.op().jsonName().getBytes(StandardCharsets.UTF_8));
        headers.add(ChangeHeaders.TABLE, event.table().getBytes(StandardCharsets.UTF_8));
        headers.add(ChangeHeaders.LSN, Long.toUnsignedString(event.source().lsn()).getBytes(StandardCharsets.UTF_8));
        return headers;
    }

    /** Topic and partition are set when sent: {@link StateTopic#commit}. */
    private static ProducerRecord<String, byte[]> record(ChangeEvent event, byte[] value, RecordHeaders headers) {
        return new ProducerRecord<>("unset", null, event.kafkaKey(), value, headers);
    }

    private static List<String> ids(Iterable<ChangeEvent> events) {
        List<String> ids = new ArrayList<>();
        events.forEach(e -> ids.add(e.eventId()));
        return ids;
    }

    /** The delete event handed to the handler is the one the tombstone's header carries. */
    private static void assertDelete(ChangeEvent handled, ChangeEvent expected) {
        assertThat(handled.op()).isEqualTo(Op.DELETE);
        assertThat(handled.eventId()).isEqualTo(expected.eventId());
        assertThat(handled.kafkaKey()).isEqualTo(expected.kafkaKey());
        assertThat(handled.before()).isEqualTo(expected.before());
        assertThat(handled.after()).isNull();
    }

    /** Key to the eventId of the last event handled for it. */
    private static Map<String, String> latestPerKey(Iterable<ChangeEvent> events) {
        Map<String, String> latest = new HashMap<>();
        events.forEach(e -> latest.put(e.kafkaKey(), e.eventId()));
        return latest;
    }

    /**
     * This test's compacted state topic on the shared broker, with its own group, and a transactional producer that
     * writes it as capture does: a row's records always to the partition its number picks (row modulo the
     * partitions, leaving the last partition empty when there are more partitions than rows use).
     */
    private static final class StateTopic implements AutoCloseable {
        final KafkaServer kafka = SharedServers.kafka();
        final String id = "st" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        final String topic = id + ".task.state.snapshots";
        final String group = id + "-group";
        final int partitions;
        private final Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
        private final KafkaProducer<String, byte[]> producer;

        StateTopic(int partitions) throws ExecutionException, InterruptedException {
            this.partitions = partitions;
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1)
                    .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))))
                    .all().get();
            await("leaders for " + topic).atMost(Duration.ofSeconds(30)).until(() ->
                    admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().stream()
                            .allMatch(p -> p.leader() != null && !p.isr().isEmpty()));
            producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                    ProducerConfig.TRANSACTIONAL_ID_CONFIG, id + "-capture"),
                    new StringSerializer(), new ByteArraySerializer());
            producer.initTransactions();
        }

        Subscription.Builder builder() {
            return builder(options());
        }

        Subscription.Builder builder(SubscriptionOptions options) {
            return Subscription.builder(kafka.bootstrapServers(), group).fromState(topic).options(options);
        }

        /** Writes {@code records} in one committed transaction, and waits for it. */
        void commit(List<ProducerRecord<String, byte[]>> records) {
            send(records);
            producer.commitTransaction();
        }

        /** Writes {@code records} in one transaction and aborts it: a read_committed reader never sees them. */
        void abort(List<ProducerRecord<String, byte[]>> records) {
            send(records);
            producer.flush(); // in the log before the abort marker
            producer.abortTransaction();
        }

        private void send(List<ProducerRecord<String, byte[]>> records) {
            producer.beginTransaction();
            for (ProducerRecord<String, byte[]> r : records) {
                int row = Integer.parseInt(r.key().substring(r.key().lastIndexOf('-') + 1));
                int partition = partitions > 2 ? row % (partitions - 1) : row % partitions;
                producer.send(new ProducerRecord<>(topic, partition, r.key(), r.value(), r.headers()));
            }
        }

        /** Every record on the dead-letter topic, read from the beginning until {@code expected} have been seen. */
        List<ConsumerRecord<String, byte[]>> deadLetters(int expected, Duration timeout) {
            List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
            try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                    ConsumerConfig.GROUP_ID_CONFIG, id + "-dlt-reader",
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                    new StringDeserializer(), new ByteArrayDeserializer())) {
                consumer.subscribe(List.of(topic + ".dlt"));
                long deadline = System.nanoTime() + timeout.toNanos();
                while (records.size() < expected && System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                }
                // One more poll: anything beyond what was expected shows up too.
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
            return records;
        }

        @Override
        public void close() {
            producer.close();
            admin.close();
        }
    }
}
