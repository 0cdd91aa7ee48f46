package dev.changeflow.router.subscription;

import static dev.changeflow.router.subscription.SubscriptionKit.event;
import static dev.changeflow.router.subscription.SubscriptionKit.header;
import static dev.changeflow.router.subscription.SubscriptionKit.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

class SubscriptionIT {

    @Test
    void eachKeysEventsAreHandledInOrderOnceAndEveryOffsetIsCommitted() throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(8)) {
            List<ChangeEvent> events = new ArrayList<>();
            for (int version = 1; version <= 50; version++) {
                for (int row = 0; row < 40; row++) {
                    events.add(event(row, version));
                }
            }
            kit.sendMany(events);
            Map<String, List<Long>> seen = new ConcurrentHashMap<>();
            kit.start(kit.builder().options(options()).onEach(e -> Mono.fromRunnable(() -> seen
                    .computeIfAbsent(e.kafkaKey(), k -> Collections.synchronizedList(new ArrayList<>()))
                    .add(e.source().lsn()))));

            await("every offset committed").atMost(Duration.ofSeconds(30)).until(() -> kit.lag().total() == 0
                    && kit.lag().partitions().stream().allMatch(p -> p.committed() == p.end()));

            assertThat(seen).hasSize(40);
            List<Long> inOrder = new ArrayList<>();
            for (long v = 1; v <= 50; v++) {
                inOrder.add(v);
            }
            seen.values().forEach(versions -> assertThat(versions).containsExactlyElementsOf(inOrder));
        }
    }

    @Test
    void aRequestedRebalanceIsAcceptedByTheConsumerAndHandlingGoesOn() throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(4)) {
            Set<String> handled = ConcurrentHashMap.newKeySet();
            Subscription subscription = kit.start(kit.builder().options(options())
                    .onEach(e -> Mono.fromRunnable(() -> handled.add(e.eventId()))));
            kit.send(event(1, 1));
            await("the first event handled").atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 1);

            subscription.requestRebalance().get(10, java.util.concurrent.TimeUnit.SECONDS);

            kit.send(event(2, 1));
            await("events after the rebalance handled").atMost(Duration.ofSeconds(30))
                    .until(() -> handled.size() == 2);
            await("the member holds every partition again").atMost(Duration.ofSeconds(30))
                    .until(() -> subscription.assignment().size() == 4);
        }
    }

    @Test
    void anUndecodableRecordAndAPoisonRecordGoToTheDeadLetterTopicWithTheirHeadersAndThePartitionMovesOn()
            throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(1)) {
            ChangeEvent poison = event(666, 2);
            AtomicInteger poisonCalls = new AtomicInteger();
            Set<String> handled = ConcurrentHashMap.newKeySet();
            Instant before = Instant.now();
            kit.send(event(1, 1));
            kit.sendRaw("tasks:garbage", "{not json".getBytes(StandardCharsets.UTF_8));
            kit.send(poison);
            kit.send(event(2, 3));
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            kit.start(kit.builder().options(options()).meterRegistry(meters).onEach(e -> {
                if (e.eventId().equals(poison.eventId())) {
                    poisonCalls.incrementAndGet();
                    return Mono.error(new IllegalArgumentException("cannot handle task-666"));
                }
                handled.add(e.eventId());
                return Mono.empty();
            }));

            await("the record after the poison handled and committed").atMost(Duration.ofSeconds(30))
                    .until(() -> handled.contains(event(2, 3).eventId()) && kit.lag().total() == 0);
            List<ConsumerRecord<String, byte[]>> dead = kit.deadLetters(2, Duration.ofSeconds(10));

            assertThat(poisonCalls).as("1 call + exactly 3 retries").hasValue(4);
            assertThat(handled).containsExactlyInAnyOrder(event(1, 1).eventId(), event(2, 3).eventId());
            assertThat(dead).hasSize(2);
            ConsumerRecord<String, byte[]> garbage = dead.get(0);
            assertThat(garbage.key()).isEqualTo("tasks:garbage");
            assertThat(new String(garbage.value(), StandardCharsets.UTF_8)).isEqualTo("{not json");
            assertThat(header(garbage, DeadLetterHeaders.ORIGINAL_TOPIC)).isEqualTo(kit.topic);
            assertThat(header(garbage, DeadLetterHeaders.ORIGINAL_PARTITION)).isEqualTo("0");
            assertThat(header(garbage, DeadLetterHeaders.ORIGINAL_OFFSET)).isEqualTo("1");
            assertThat(header(garbage, DeadLetterHeaders.ORIGINAL_KEY)).isEqualTo("tasks:garbage");
            assertThat(header(garbage, DeadLetterHeaders.REASON)).isEqualTo(DeadLetterHeaders.REASON_UNDECODABLE);
            assertThat(header(garbage, DeadLetterHeaders.ERROR_CLASS))
                    .isEqualTo("dev.changeflow.router.MalformedEventException");
            assertThat(header(garbage, DeadLetterHeaders.ERROR_MESSAGE)).contains("invalid JSON");
            assertThat(header(garbage, DeadLetterHeaders.ATTEMPTS)).isEqualTo("0");
            assertThat(Instant.parse(header(garbage, DeadLetterHeaders.FAILED_AT))).isAfter(before);
            assertThat(header(garbage, DeadLetterHeaders.GROUP)).isEqualTo(kit.group);

            ConsumerRecord<String, byte[]> failed = dead.get(1);
            assertThat(failed.key()).isEqualTo(poison.kafkaKey());
            assertThat(header(failed, DeadLetterHeaders.ORIGINAL_OFFSET)).isEqualTo("2");
            assertThat(header(failed, DeadLetterHeaders.ORIGINAL_KEY)).isEqualTo(poison.kafkaKey());
            assertThat(header(failed, DeadLetterHeaders.REASON)).isEqualTo(DeadLetterHeaders.REASON_HANDLER_FAILED);
            assertThat(header(failed, DeadLetterHeaders.ERROR_CLASS)).isEqualTo("java.lang.IllegalArgumentException");
            assertThat(header(failed, DeadLetterHeaders.ERROR_MESSAGE)).isEqualTo("cannot handle task-666");
            assertThat(header(failed, DeadLetterHeaders.ATTEMPTS)).isEqualTo("4");

            assertThat(meters.get("changeflow.subscription.records").tag("outcome", "processed").counter().count())
                    .isEqualTo(2.0);
            assertThat(meters.get("changeflow.subscription.records").tag("outcome", "dead_lettered").counter().count())
                    .isEqualTo(2.0);
            assertThat(meters.get("changeflow.subscription.retries").tag("kind", "failure").counter().count())
                    .isEqualTo(3.0);
            assertThat(meters.get("changeflow.subscription.handler.latency").timer().count()).isEqualTo(6);
            await("lag gauge at 0").atMost(Duration.ofSeconds(10)).until(() -> meters.find(
                    "changeflow.subscription.lag").tag("partition", "0").gauge() != null
                    && meters.get("changeflow.subscription.lag").tag("partition", "0").gauge().value() == 0.0);
        }
    }

    @Test
    void anOutageIsRetriedBeyondTheRetryLimitAndNeverDeadLettered() throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(1)) {
            AtomicInteger calls = new AtomicInteger();
            kit.send(event(1, 1));
            kit.start(kit.builder().options(options()).onEach(e -> calls.incrementAndGet() <= 10
                    ? Mono.error(new OutageException("Redis unreachable", new java.net.ConnectException("refused")))
                    : Mono.empty()));

            await("handled after the outage").atMost(Duration.ofSeconds(30))
                    .until(() -> calls.get() == 11 && kit.lag().total() == 0);

            assertThat(kit.deadLetters(0, Duration.ZERO)).isEmpty();
        }
    }

    @Test
    void aFailingBatchFallsBackToEachEventAloneSoOnlyThePoisonIsDeadLettered() throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(2)) {
            List<ChangeEvent> events = new ArrayList<>();
            for (int row = 0; row < 100; row++) {
                events.add(event(row, 1));
            }
            kit.sendMany(events);
            String poison = event(42, 1).eventId();
            Set<String> handled = ConcurrentHashMap.newKeySet();
            ConcurrentLinkedQueue<Integer> batchSizes = new ConcurrentLinkedQueue<>();
            kit.start(kit.builder().options(options("changeflow.subscription.batch-size", "50",
                    "changeflow.subscription.batch-wait", "200ms")).onBatch(batch -> {
                        batchSizes.add(batch.size());
                        if (batch.stream().anyMatch(e -> e.eventId().equals(poison))) {
                            return Mono.error(new IllegalStateException("bad row 42"));
                        }
                        batch.forEach(e -> handled.add(e.eventId()));
                        return Mono.empty();
                    }));

            await("all but the poison handled and committed").atMost(Duration.ofSeconds(30))
                    .until(() -> handled.size() == 99 && kit.lag().total() == 0);

            assertThat(batchSizes).anyMatch(size -> size > 1);
            String dlt = kit.topic + ".dlt";
            assertThat(kit.admin.describeTopics(List.of(dlt)).allTopicNames().get().get(dlt).partitions())
                    .as("the dead-letter topic is shaped like its source").hasSize(2);
            var config = kit.admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, dlt)))
                    .all().get().values().iterator().next();
            assertThat(config.get("retention.ms").value()).isEqualTo(Long.toString(Duration.ofDays(30).toMillis()));
            List<ConsumerRecord<String, byte[]>> dead = kit.deadLetters(1, Duration.ofSeconds(10));
            assertThat(dead).singleElement().satisfies(r -> {
                assertThat(r.key()).isEqualTo("tasks:task-42");
                assertThat(header(r, DeadLetterHeaders.ATTEMPTS)).isEqualTo("4");
            });
        }
    }

    @Test
    void closeLetsRunningHandlersFinishCommitsThemAndTheNextMemberHandlesTheRestWithoutRepeats()
            throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(4)) {
            List<ChangeEvent> events = new ArrayList<>();
            for (int row = 0; row < 400; row++) {
                events.add(event(row, 1));
            }
            kit.sendMany(events);
            ConcurrentLinkedQueue<String> first = new ConcurrentLinkedQueue<>();
            AtomicInteger running = new AtomicInteger();
            AtomicInteger cutShort = new AtomicInteger();
            Subscription subscription = kit.builder().options(options()).onEach(e -> Mono.delay(Duration.ofMillis(20))
                    .doOnSubscribe(s -> running.incrementAndGet())
                    .doOnCancel(cutShort::incrementAndGet)
                    .doOnSuccess(x -> {
                        first.add(e.eventId());
                        running.decrementAndGet();
                    })
                    .then()).start();
            await("some handled").atMost(Duration.ofSeconds(30)).until(() -> first.size() >= 40);

            subscription.close();

            assertThat(cutShort).as("no handler cancelled by close").hasValue(0);
            assertThat(running).as("nothing left running").hasValue(0);
            assertThat(subscription.whenTerminated()).isCompleted();
            assertThat(kit.lag().partitions().stream().mapToLong(p -> Math.max(0, p.committed())).sum())
                    .as("committed offsets cover exactly what was handled").isEqualTo(first.size());

            ConcurrentLinkedQueue<String> second = new ConcurrentLinkedQueue<>();
            kit.start(kit.builder().options(options()).onEach(e -> Mono.fromRunnable(() -> second.add(e.eventId()))));
            await("the rest handled").atMost(Duration.ofSeconds(30)).until(() -> kit.lag().total() == 0);

            Set<String> all = new HashSet<>(first);
            all.addAll(second);
            assertThat(all).hasSize(400);
            assertThat(first.size() + second.size()).as("no event handled twice").isEqualTo(400);
        }
    }

    @Test
    void aMemberJoiningMidStreamTakesPartitionsAndEveryEventIsHandledRepeatsOnlyByTheNewOwner()
            throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(6)) {
            List<ChangeEvent> events = new ArrayList<>();
            for (int row = 0; row < 4000; row++) {
                events.add(event(row, 1));
            }
            kit.sendMany(events);
            ConcurrentLinkedQueue<String> byFirst = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<String> bySecond = new ConcurrentLinkedQueue<>();
            Subscription first = kit.start(kit.builder().options(options()).onEach(e -> Mono.delay(Duration.ofMillis(5))
                    .doOnNext(x -> byFirst.add(e.eventId())).then()));
            await("the first member busy").atMost(Duration.ofSeconds(30)).until(() -> byFirst.size() >= 300);

            Subscription second = kit.start(kit.builder().options(options()).onEach(e -> Mono.delay(Duration.ofMillis(5))
                    .doOnNext(x -> bySecond.add(e.eventId())).then()));
            await("the second member given partitions").atMost(Duration.ofSeconds(30))
                    .until(() -> !second.assignment().isEmpty());
            await("everything handled and committed").atMost(Duration.ofSeconds(60))
                    .until(() -> kit.lag().total() == 0 && byFirst.size() + bySecond.size() >= 4000);

            assertThat(second.assignment()).isNotEmpty();
            assertThat(first.assignment()).isNotEmpty().doesNotContainAnyElementsOf(second.assignment());
            Set<String> all = new HashSet<>(byFirst);
            all.addAll(bySecond);
            assertThat(all).hasSize(4000);
            assertThat(bySecond).isNotEmpty();
            // At least once across a rebalance: commits Kafka refused while the group rebalanced leave records to the
            // new owner. A repeat is then the first member's record handled again by the second, never twice by one.
            assertThat(Set.copyOf(byFirst)).as("the first member handles an event once").hasSize(byFirst.size());
            assertThat(Set.copyOf(bySecond)).as("the second member handles an event once").hasSize(bySecond.size());
            assertThat(byFirst.size() + bySecond.size() - 4000).as("repeats, bounded by what was in flight")
                    .isLessThanOrEqualTo(options().maxInFlight());
        }
    }

    @Test
    void aHandlerCallThatHangsPastTheTimeoutIsRetriedAsAnOutageNotDeadLettered() throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(1)) {
            AtomicInteger calls = new AtomicInteger();
            kit.send(event(1, 1));
            kit.start(kit.builder().options(options("changeflow.subscription.handler-timeout", "200ms",
                    "changeflow.subscription.retries", "0"))
                    .onEach(e -> calls.incrementAndGet() <= 2 ? Mono.never() : Mono.empty()));

            await("handled once the handler answers").atMost(Duration.ofSeconds(30))
                    .until(() -> calls.get() == 3 && kit.lag().total() == 0);

            assertThat(kit.deadLetters(0, Duration.ZERO)).isEmpty();
        }
    }

    @Test
    void eventsOfAnAbortedTransactionAreNeverHandled() throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(1);
                KafkaProducer<String, byte[]> transactional = new KafkaProducer<>(Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kit.kafka.bootstrapServers(),
                        ProducerConfig.TRANSACTIONAL_ID_CONFIG, kit.id + "-tx"),
                        new StringSerializer(), new ByteArraySerializer())) {
            ChangeEvent aborted = event(1, 1);
            ChangeEvent committed = event(2, 2);
            transactional.initTransactions();
            transactional.beginTransaction();
            transactional.send(new ProducerRecord<>(kit.topic, aborted.kafkaKey(), ChangeEventCodec.encode(aborted)));
            transactional.flush();
            transactional.abortTransaction();
            transactional.beginTransaction();
            transactional.send(new ProducerRecord<>(kit.topic, committed.kafkaKey(),
                    ChangeEventCodec.encode(committed)));
            transactional.commitTransaction();
            ConcurrentLinkedQueue<String> handled = new ConcurrentLinkedQueue<>();
            kit.start(kit.builder().options(options()).onEach(e -> Mono.fromRunnable(() -> handled.add(e.eventId()))));

            await("the committed event handled").atMost(Duration.ofSeconds(30))
                    .until(() -> handled.contains(committed.eventId()));

            assertThat(handled).containsExactly(committed.eventId());
        }
    }
}
