package dev.changeflow.router.subscription;

import static dev.changeflow.router.subscription.SubscriptionKit.event;
import static dev.changeflow.router.subscription.SubscriptionKit.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import dev.changeflow.router.topics.ConsumerLag;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * Topics written with Kafka transactions, as capture writes them: each transaction leaves a marker in every partition
 * it wrote, which takes an offset and which no consumer ever receives.
 */
class TransactionalTopicsIT {
    private static final String LAG = "changeflow.subscription.lag";

    @Test
    void aCaughtUpConsumerOfATransactionalTopicHasNoLagAndHandlesEachCommittedEventOnce() throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(3); Transactions transactions = new Transactions(kit)) {
            List<ChangeEvent> committed = new ArrayList<>();
            List<ChangeEvent> aborted = new ArrayList<>();
            for (int version = 1; version <= 4; version++) {
                committed.addAll(transactions.commit(rows(0, 15, version)));
                if (version == 2) {
                    aborted.addAll(transactions.abort(rows(100, 9, version)));
                }
            }
            Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            kit.start(kit.builder().options(options()).meterRegistry(meters).onEach(e -> Mono.fromRunnable(() ->
                    handled.computeIfAbsent(e.eventId(), k -> new AtomicInteger()).incrementAndGet())));

            awaitCaughtUp(kit, meters, handled, committed.size());

            assertThat(kit.lag().partitions().stream().mapToLong(ConsumerLag.PartitionLag::end).sum())
                    .as("the partitions hold markers besides the events")
                    .isGreaterThan(committed.size() + aborted.size());
            assertHandledOnce(handled, committed, aborted);

            committed.addAll(transactions.commit(rows(0, 15, 5)));
            aborted.addAll(transactions.abort(rows(100, 9, 5)));
            committed.addAll(transactions.commit(rows(0, 15, 6)));

            awaitCaughtUp(kit, meters, handled, committed.size());

            assertHandledOnce(handled, committed, aborted);
        }
    }

    @Test
    void aPartitionWithARecordStillBeingHandledIsNotCommittedPastItWhileAnIdleOneIsCommittedToItsEnd()
            throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(2); Transactions transactions = new Transactions(kit)) {
            List<ChangeEvent> events = new ArrayList<>(rows(0, 6, 1));
            List<Long> handledOffsets = transactions.commitTo(0, events.subList(0, 3));
            transactions.commitTo(1, events.subList(3, 6));
            List<ChangeEvent> blocked = rows(20, 3, 1);
            long blockedOffset = transactions.commitTo(0, blocked).get(0);
            events.addAll(blocked);
            long lastHandledOffset = handledOffsets.get(handledOffsets.size() - 1);
            CompletableFuture<Void> release = new CompletableFuture<>();
            Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            try {
                kit.start(kit.builder().options(options("changeflow.subscription.handler-timeout", "60s"))
                        .meterRegistry(meters).onEach(e -> (e.eventId().equals(blocked.get(0).eventId())
                                ? Mono.fromFuture(release) : Mono.<Void>empty())
                                .then(Mono.fromRunnable(() -> handled
                                        .computeIfAbsent(e.eventId(), k -> new AtomicInteger()).incrementAndGet()))));

                await("the idle partition committed to its end, the busy one past the records before the blocked one")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> committed(kit, 1) == end(kit, 1) && committed(kit, 0) > lastHandledOffset);
                await("the busy partition not committed past the blocked record while it is blocked")
                        .during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
                        .until(() -> committed(kit, 0) <= blockedOffset);
                assertThat(handled).doesNotContainKey(blocked.get(0).eventId());
                await("the busy partition's lag gauge above 0, the idle one's at 0").atMost(Duration.ofSeconds(10))
                        .until(() -> lagGauge(meters, 0) != null && lagGauge(meters, 0) > 0
                                && Double.valueOf(0).equals(lagGauge(meters, 1)));
                assertThat(committed(kit, 0)).isLessThanOrEqualTo(blockedOffset);
            } finally {
                release.complete(null);
            }

            awaitCaughtUp(kit, meters, handled, events.size());

            assertHandledOnce(handled, events, List.of());
        }
    }

    @Test
    void aGroupLeftInFrontOfAMarkerAndAnAbortedTransactionIsCommittedPastThemWithoutHandlingAnything()
            throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(1); Transactions transactions = new Transactions(kit)) {
            List<ChangeEvent> committed = transactions.commit(rows(0, 3, 1));
            List<ChangeEvent> aborted = transactions.abort(rows(10, 2, 1));
            // Where the subscription used to leave the group: just after the last record it handled.
            kit.admin.alterConsumerGroupOffsets(kit.group, Map.of(new TopicPartition(kit.topic, 0),
                    new OffsetAndMetadata(committed.size()))).all().get();
            assertThat(kit.lag().total()).as("the marker and the aborted transaction count as lag").isPositive();
            Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            kit.start(kit.builder().options(options()).meterRegistry(meters).onEach(e -> Mono.fromRunnable(() ->
                    handled.computeIfAbsent(e.eventId(), k -> new AtomicInteger()).incrementAndGet())));

            awaitCaughtUp(kit, meters, handled, 0);

            assertThat(end(kit, 0)).isEqualTo(committed.size() + 1 + aborted.size() + 1);
            assertThat(handled).isEmpty();
        }
    }

    /** Update events of {@code count} rows from {@code first}, at {@code version}. */
    private static List<ChangeEvent> rows(int first, int count, long version) {
        List<ChangeEvent> events = new ArrayList<>();
        for (int row = first; row < first + count; row++) {
            events.add(event(row, version));
        }
        return events;
    }

    /**
     * Waits until {@code expected} events are handled, the group has committed the end of every partition (so
     * {@link ConsumerLag} reads 0), and the subscription's lag gauge reads 0 for every partition.
     */
    private static void awaitCaughtUp(SubscriptionKit kit, SimpleMeterRegistry meters,
            Map<String, AtomicInteger> handled, int expected) throws Exception {
        await(expected + " events handled and the group's lag at 0").atMost(Duration.ofSeconds(30))
                .until(() -> handled.size() >= expected && kit.lag().total() == 0);
        assertThat(kit.lag().partitions()).allSatisfy(p -> assertThat(p.committed()).isEqualTo(p.end()));
        int partitions = kit.lag().partitions().size();
        await("the lag gauge at 0 for every partition").atMost(Duration.ofSeconds(10)).until(() -> {
            for (int p = 0; p < partitions; p++) {
                if (!Double.valueOf(0).equals(lagGauge(meters, p))) {
                    return false;
                }
            }
            return true;
        });
    }

    private static void assertHandledOnce(Map<String, AtomicInteger> handled, List<ChangeEvent> committed,
            List<ChangeEvent> aborted) {
        assertThat(handled.keySet()).containsExactlyInAnyOrderElementsOf(
                committed.stream().map(ChangeEvent::eventId).toList());
        assertThat(handled).allSatisfy((id, times) -> assertThat(times).as("times %s was handled", id).hasValue(1));
        assertThat(handled).doesNotContainKeys(aborted.stream().map(ChangeEvent::eventId).toArray(String[]::new));
    }

    private static long committed(SubscriptionKit kit, int partition) throws Exception {
        return kit.lag().partitions().get(partition).committed();
    }

    private static long end(SubscriptionKit kit, int partition) throws Exception {
        return kit.lag().partitions().get(partition).end();
    }

    /** The subscription's lag gauge of {@code partition}, or null while it has none. */
    private static Double lagGauge(SimpleMeterRegistry meters, int partition) {
        Gauge gauge = meters.find(LAG).tag("partition", Integer.toString(partition)).gauge();
        return gauge == null ? null : gauge.value();
    }

    /** A transactional producer of change events to the kit's topic, as capture writes them. */
    private static final class Transactions implements AutoCloseable {
        private final SubscriptionKit kit;
        private final int partitions;
        private final KafkaProducer<String, byte[]> producer;

        Transactions(SubscriptionKit kit) throws ExecutionException, InterruptedException {
            this.kit = kit;
            this.partitions = kit.admin.describeTopics(List.of(kit.topic)).allTopicNames().get().get(kit.topic)
                    .partitions().size();
            this.producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kit.kafka.bootstrapServers(),
                    ProducerConfig.TRANSACTIONAL_ID_CONFIG, kit.id + "-tx"),
                    new StringSerializer(), new ByteArraySerializer());
            producer.initTransactions();
        }

        /** Sends {@code events} round-robin over the partitions in one committed transaction. */
        List<ChangeEvent> commit(List<ChangeEvent> events) {
            send(events, -1);
            producer.commitTransaction();
            return events;
        }

        /** Sends {@code events} to {@code partition} in one committed transaction; returns their offsets. */
        List<Long> commitTo(int partition, List<ChangeEvent> events) throws Exception {
            List<Future<RecordMetadata>> sent = send(events, partition);
            producer.commitTransaction();
            List<Long> offsets = new ArrayList<>();
            for (Future<RecordMetadata> metadata : sent) {
                offsets.add(metadata.get().offset());
            }
            return offsets;
        }

        /** Writes {@code events} round-robin over the partitions in one transaction, then aborts it. */
        List<ChangeEvent> abort(List<ChangeEvent> events) {
            send(events, -1);
            producer.flush(); // in the log before the abort marker
            producer.abortTransaction();
            return events;
        }

        private List<Future<RecordMetadata>> send(List<ChangeEvent> events, int partition) {
            producer.beginTransaction();
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < events.size(); i++) {
                ChangeEvent e = events.get(i);
                sent.add(producer.send(new ProducerRecord<>(kit.topic, partition >= 0 ? partition : i % partitions,
                        e.kafkaKey(), ChangeEventCodec.encode(e))));
            }
            return sent;
        }

        @Override
        public void close() {
            producer.close();
        }
    }
}
