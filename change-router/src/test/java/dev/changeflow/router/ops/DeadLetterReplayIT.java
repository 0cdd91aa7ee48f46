package dev.changeflow.router.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.changeflow.config.Settings;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import dev.changeflow.router.ChangeHeaders;
import dev.changeflow.router.Op;
import dev.changeflow.router.Source;
import dev.changeflow.router.ops.DeadLetters.DeadLetter;
import dev.changeflow.router.ops.DeadLetters.Filter;
import dev.changeflow.router.ops.DeadLetters.ReplayResult;
import dev.changeflow.router.ops.DeadLetters.ReplayTakenOverException;
import dev.changeflow.router.ops.DeadLetters.TopicSummary;
import dev.changeflow.router.subscription.DeadLetterHeaders;
import dev.changeflow.router.subscription.Subscription;
import dev.changeflow.router.subscription.SubscriptionOptions;
import dev.changeflow.stack.SharedServers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * Dead-letter replay on the shared Kafka broker, with a real subscription as the consumer: each test has its own
 * topics and group; the ledger topic is shared, and its keys name each test's own DLT.
 */
class DeadLetterReplayIT {
    private static final Duration WAIT = Duration.ofSeconds(60);

    private final String bootstrap = SharedServers.kafka().bootstrapServers();
    private final String id = "r" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    private final String topic = id + ".tasks-changes";
    private final String dlt = topic + ".dlt";
    private final DeadLetters deadLetters = DeadLetters.create(Map.of("bootstrap.servers", bootstrap), 1);
    private final List<String> progressLines = new CopyOnWriteArrayList<>();
    private final DeadLetters.ProgressFactory quiet = (task, total, unit) ->
            Progress.plain(task, total, unit, progressLines::add);
    private final List<Subscription> subscriptions = new ArrayList<>();
    private Admin admin;
    private KafkaProducer<String, byte[]> producer;

    @BeforeEach
    void connect() {
        admin = Admin.create(Map.of("bootstrap.servers", bootstrap));
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 5),
                new StringSerializer(), new ByteArraySerializer());
    }

    @AfterEach
    void disconnect() {
        subscriptions.forEach(Subscription::close);
        producer.close();
        admin.close();
    }

    @Test
    void onceTheBugIsFixedEachReplayedRecordIsHandledOnceAndReplayingAgainDoesNothing() throws Exception {
        createTopics(3, false);
        List<ChangeEvent> events = events(10);
        Set<String> poison = Set.of(events.get(2).eventId(), events.get(5).eventId(), events.get(7).eventId());
        AtomicBoolean bugFixed = new AtomicBoolean();
        Map<String, AtomicInteger> handled = startSubscription(poison, bugFixed);
        send(events);

        await("7 events handled and 3 dead-lettered").atMost(WAIT).until(() -> handled.size() == 7
                && summary().records() == 3);
        bugFixed.set(true);
        ReplayResult first = deadLetters.replay(dlt, Filter.all(), quiet);

        assertThat(first).isEqualTo(new ReplayResult(3, 3, 0, 0));
        await("the replayed events handled").atMost(WAIT).until(() -> handled.keySet().containsAll(poison));
        assertThat(handled.keySet()).containsExactlyInAnyOrderElementsOf(eventIds(events));
        Map<TopicPartition, Long> endsAfterFirst = endOffsets(topic);

        ReplayResult second = deadLetters.replay(dlt, Filter.all(), quiet);

        assertThat(second).isEqualTo(new ReplayResult(3, 0, 3, 0));
        assertThat(endOffsets(topic)).as("nothing written to the change topic").isEqualTo(endsAfterFirst);
        assertThat(summary()).isEqualTo(new TopicSummary(dlt, 3, 3, 0));
        subscriptions.get(0).close();
        assertThat(counts(handled)).as("every event handled exactly once")
                .isEqualTo(eventIds(events).stream().collect(Collectors.toMap(e -> e, e -> 1)));
        assertThat(progressLines).last().asString().contains("replay " + dlt);
    }

    @Test
    void aKeyFilterReplaysOnlyTheDeadLettersOfThatKey() throws Exception {
        createTopics(2, false);
        List<ChangeEvent> events = events(6);
        ChangeEvent chosen = events.get(1);
        Set<String> poison = Set.of(chosen.eventId(), events.get(3).eventId(), events.get(4).eventId());
        AtomicBoolean bugFixed = new AtomicBoolean();
        Map<String, AtomicInteger> handled = startSubscription(poison, bugFixed);
        send(events);
        await("3 events dead-lettered").atMost(WAIT).until(() -> handled.size() == 3 && summary().records() == 3);
        bugFixed.set(true);

        ReplayResult byKey = deadLetters.replay(dlt, Filter.key(chosen.kafkaKey()), quiet);

        assertThat(byKey).isEqualTo(new ReplayResult(1, 1, 0, 0));
        await("the chosen key's event handled").atMost(WAIT).until(() -> handled.containsKey(chosen.eventId()));
        assertThat(deadLetters.records(dlt, Filter.all())).extracting(DeadLetter::key, DeadLetter::replayed)
                .containsExactlyInAnyOrder(tuple(chosen.kafkaKey(), true),
                        tuple(events.get(3).kafkaKey(), false),
                        tuple(events.get(4).kafkaKey(), false));

        ReplayResult rest = deadLetters.replay(dlt, Filter.all(), quiet);

        assertThat(rest).isEqualTo(new ReplayResult(3, 2, 1, 0));
        await("every event handled").atMost(WAIT).until(() -> handled.size() == 6);
        subscriptions.get(0).close();
        assertThat(counts(handled).values()).as("each handled once").containsOnly(1);
    }

    @Test
    void twoReplaysOfOneDeadLetterTopicStartedTogetherRepublishEachRecordOnceInTotal() throws Exception {
        createTopics(3, true);
        int count = 3 * DeadLetters.CHUNK_SIZE + 50;
        for (int i = 0; i < count; i++) {
            writeDeadLetter(i % 3, "tasks:row-" + i, ("value " + i).getBytes(StandardCharsets.UTF_8),
                    Instant.now(), true);
        }
        producer.flush();

        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<ReplayResult>> replays = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            replays.add(pool.submit(() -> {
                start.await();
                return deadLetters.replay(dlt, Filter.all(), quiet);
            }));
        }
        start.countDown();
        long replayedByBoth = 0;
        int finished = 0;
        for (Future<ReplayResult> replay : replays) {
            try {
                replayedByBoth += replay.get(2, TimeUnit.MINUTES).replayed();
                finished++;
            } catch (ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(ReplayTakenOverException.class);
                replayedByBoth += ((ReplayTakenOverException) e.getCause()).replayed();
            }
        }
        pool.shutdown();

        assertThat(finished).as("at least the later replay finishes").isGreaterThanOrEqualTo(1);
        assertThat(replayedByBoth).isEqualTo(count);
        Map<String, Integer> republished = replayedFrom(topic);
        assertThat(republished).hasSize(count);
        assertThat(republished.values()).as("each dead letter republished once").containsOnly(1);
        assertThat(deadLetters.replay(dlt, Filter.all(), quiet)).isEqualTo(new ReplayResult(count, 0, count, 0));
        assertThat(summary()).isEqualTo(new TopicSummary(dlt, count, count, 0));
    }

    @Test
    void aReplayerThatDiedMidwayIsFencedOffAndWhatItCommittedIsNotReplayedAgain() throws Exception {
        createTopics(1, true);
        for (int i = 0; i < 3; i++) {
            writeDeadLetter(0, "tasks:row-" + i, ("value " + i).getBytes(StandardCharsets.UTF_8), Instant.now(), true);
        }
        producer.flush();
        // The replayer that died: it committed the replay of offset 0, then left the replay of offset 1 open.
        KafkaProducer<String, byte[]> dead = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "changeflow-dlt-replay-" + dlt),
                new StringSerializer(), new ByteArraySerializer());
        try (Admin ledger = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            ReplayLedger.ensure(ledger, 1);
        }
        dead.initTransactions();
        for (int offset = 0; offset < 2; offset++) {
            dead.beginTransaction();
            dead.send(new ProducerRecord<>(topic, null, "tasks:row-" + offset, new byte[0], new RecordHeaders()
                    .add(DeadLetters.REPLAYED_FROM, (dlt + "/0/" + offset).getBytes(StandardCharsets.UTF_8))));
            dead.send(new ProducerRecord<>(DeadLetters.LEDGER_TOPIC, dlt + "/0/" + offset,
                    ReplayLedger.entry(topic, Instant.now()).getBytes(StandardCharsets.UTF_8)));
            if (offset == 0) {
                dead.commitTransaction();
            } else {
                dead.flush();
            }
        }

        ReplayResult result = deadLetters.replay(dlt, Filter.all(), quiet);

        assertThat(result).isEqualTo(new ReplayResult(3, 2, 1, 0));
        assertThat(replayedFrom(topic)).as("the open transaction was aborted; each record republished once")
                .isEqualTo(Map.of(dlt + "/0/0", 1, dlt + "/0/1", 1, dlt + "/0/2", 1));
        assertThatThrownBy(dead::commitTransaction).as("the dead replayer is fenced off")
                .isInstanceOf(org.apache.kafka.common.KafkaException.class);
        dead.close(Duration.ZERO);
    }

    @Test
    void listAndRecordsReportCountsFiltersAndReplayedFlagsAndAReplayKeepsTheRecordAsItWas() throws Exception {
        createTopics(2, true);
        Instant nine = Instant.parse("2026-11-21T09:00:00Z");
        byte[] valueB = {1, 2, 3, (byte) 0xfe};
        writeDeadLetter(0, "tasks:a", "a".getBytes(StandardCharsets.UTF_8), nine, true);
        writeDeadLetter(1, "tasks:b", valueB, nine.plusSeconds(3600), true);
        writeDeadLetter(0, "tasks:c", "c".getBytes(StandardCharsets.UTF_8), nine.plusSeconds(1800), true);
        writeDeadLetter(1, "tasks:d", "d".getBytes(StandardCharsets.UTF_8), nine.plusSeconds(10800), false);
        producer.flush();

        assertThat(summary()).isEqualTo(new TopicSummary(dlt, 4, 0, 4));
        List<DeadLetter> all = deadLetters.records(dlt, Filter.all());
        assertThat(all).extracting(DeadLetter::key).containsExactly("tasks:a", "tasks:c", "tasks:b", "tasks:d");
        DeadLetter a = all.get(0);
        assertThat(a).isEqualTo(new DeadLetter(dlt, 0, 0, a.timestamp(), "tasks:a", "handler-failed",
                "java.lang.IllegalStateException", "the bug", nine, id + "-group", topic, 0, 100L, false));
        assertThat(deadLetters.records(dlt, Filter.key("tasks:b"))).extracting(DeadLetter::offset)
                .containsExactly(0L);
        assertThat(deadLetters.records(dlt, Filter.since(nine.plusSeconds(3600)))).extracting(DeadLetter::key)
                .containsExactly("tasks:b", "tasks:d");

        ReplayResult result = deadLetters.replay(dlt, Filter.since(nine.plusSeconds(3600)), quiet);

        assertThat(result).as("d has no original topic: refused").isEqualTo(new ReplayResult(2, 1, 0, 1));
        assertThat(summary()).isEqualTo(new TopicSummary(dlt, 4, 1, 3));
        assertThat(deadLetters.records(dlt, Filter.all())).extracting(DeadLetter::key, DeadLetter::replayed)
                .containsExactly(tuple("tasks:a", false),
                        tuple("tasks:c", false),
                        tuple("tasks:b", true),
                        tuple("tasks:d", false));
        List<ConsumerRecord<String, byte[]>> republished = read(topic);
        assertThat(republished).hasSize(1);
        ConsumerRecord<String, byte[]> b = republished.get(0);
        assertThat(b.key()).isEqualTo("tasks:b");
        assertThat(b.value()).isEqualTo(valueB);
        List<String> headers = new ArrayList<>();
        for (Header h : b.headers()) {
            headers.add(h.key() + "=" + new String(h.value(), StandardCharsets.UTF_8));
        }
        assertThat(headers).as("original headers, no dlt-* header, where it came from")
                .containsExactly("cdc-op=u", "cdc-table=tasks", DeadLetters.REPLAYED_FROM + "=" + dlt + "/1/0");
    }

    @Test
    void aTopicThatIsNotAnExistingDeadLetterTopicIsRefusedWithItsName() {
        assertThatThrownBy(() -> deadLetters.replay(id + ".missing.dlt", Filter.all(), quiet))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(id + ".missing.dlt")
                .hasMessageContaining("does not exist");
        assertThatThrownBy(() -> deadLetters.records(id + ".tasks-changes", Filter.all()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("end in .dlt");
    }

    // ---- the test's world ----

    /** The change topic, and its DLT too if {@code withDeadLetterTopic} (else the subscription creates it). */
    private void createTopics(int partitions, boolean withDeadLetterTopic) throws Exception {
        List<NewTopic> topics = new ArrayList<>(List.of(new NewTopic(topic, partitions, (short) 1)));
        if (withDeadLetterTopic) {
            topics.add(new NewTopic(dlt, partitions, (short) 1));
        }
        admin.createTopics(topics).all().get();
        await("leaders for " + topics).atMost(WAIT).until(() -> admin.describeTopics(
                topics.stream().map(NewTopic::name).toList()).allTopicNames().get().values().stream()
                .flatMap(d -> d.partitions().stream()).allMatch(p -> p.leader() != null));
    }

    /** Update events of {@code rows} tasks. */
    private static List<ChangeEvent> events(int rows) {
        List<ChangeEvent> events = new ArrayList<>();
        for (int row = 0; row < rows; row++) {
            Map<String, Object> key = Map.of("id", "task-" + row);
            Map<String, Object> after = Map.of("id", "task-" + row, "title", "title " + row);
            events.add(ChangeEvent.of(Op.UPDATE, "tasks", key, after, after,
                    new Source(1000 + row, 900, Instant.now(), false)));
        }
        return events;
    }

    private static List<String> eventIds(List<ChangeEvent> events) {
        return events.stream().map(ChangeEvent::eventId).toList();
    }

    /** A subscription whose handler fails for the {@code poison} events until {@code bugFixed}; counts successes. */
    private Map<String, AtomicInteger> startSubscription(Set<String> poison, AtomicBoolean bugFixed) {
        Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
        Map<String, String> options = new HashMap<>(Map.of(
                "changeflow.subscription.retry-backoff", "20ms",
                "changeflow.subscription.retry-max-backoff", "100ms",
                "changeflow.subscription.commit-interval", "100ms"));
        subscriptions.add(Subscription.builder(bootstrap, id + "-group").topics(topic)
                .options(SubscriptionOptions.from(Settings.of(options)))
                .onEach(event -> {
                    if (!bugFixed.get() && poison.contains(event.eventId())) {
                        return Mono.error(new IllegalStateException("the bug"));
                    }
                    return Mono.fromRunnable(() -> handled.computeIfAbsent(event.eventId(),
                            e -> new AtomicInteger()).incrementAndGet());
                })
                .start());
        return handled;
    }

    private void send(List<ChangeEvent> events) throws Exception {
        for (ChangeEvent event : events) {
            RecordHeaders headers = new RecordHeaders();
            headers.add(ChangeHeaders.OP, event.op().jsonName().getBytes(StandardCharsets.UTF_8));
            producer.send(new ProducerRecord<>(topic, null, event.kafkaKey(), ChangeEventCodec.encode(event),
                    headers)).get();
        }
    }

    /** A dead letter as the runtime writes it, with {@code dlt-original-topic} only if {@code withOriginalTopic}. */
    private void writeDeadLetter(int partition, String key, byte[] value, Instant failedAt, boolean withOriginalTopic) {
        RecordHeaders headers = new RecordHeaders();
        header(headers, ChangeHeaders.OP, "u");
        header(headers, ChangeHeaders.TABLE, "tasks");
        if (withOriginalTopic) {
            header(headers, DeadLetterHeaders.ORIGINAL_TOPIC, topic);
        }
        header(headers, DeadLetterHeaders.ORIGINAL_PARTITION, Integer.toString(partition));
        header(headers, DeadLetterHeaders.ORIGINAL_OFFSET, "100");
        header(headers, DeadLetterHeaders.ORIGINAL_KEY, key);
        header(headers, DeadLetterHeaders.REASON, DeadLetterHeaders.REASON_HANDLER_FAILED);
        header(headers, DeadLetterHeaders.ERROR_CLASS, IllegalStateException.class.getName());
        header(headers, DeadLetterHeaders.ERROR_MESSAGE, "the bug");
        header(headers, DeadLetterHeaders.ATTEMPTS, "4");
        header(headers, DeadLetterHeaders.FAILED_AT, failedAt.toString());
        header(headers, DeadLetterHeaders.GROUP, id + "-group");
        producer.send(new ProducerRecord<>(dlt, partition, key, value, headers));
    }

    private static void header(RecordHeaders headers, String name, String value) {
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    private TopicSummary summary() {
        return deadLetters.list().stream().filter(s -> s.topic().equals(dlt)).findFirst()
                .orElseThrow(() -> new AssertionError(dlt + " not listed"));
    }

    private Map<TopicPartition, Long> endOffsets(String name) throws Exception {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        admin.describeTopics(List.of(name)).allTopicNames().get().get(name).partitions()
                .forEach(p -> latest.put(new TopicPartition(name, p.partition()), OffsetSpec.latest()));
        Map<TopicPartition, Long> ends = new HashMap<>();
        admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED)).all().get()
                .forEach((tp, info) -> ends.put(tp, info.offset()));
        return ends;
    }

    /** Every committed record of {@code name}. */
    private List<ConsumerRecord<String, byte[]>> read(String name) {
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (DeadLetterScan scan = new DeadLetterScan(Map.of("bootstrap.servers", bootstrap), name, id + "-reader")) {
            scan.forEach(records::add);
        }
        return records;
    }

    /** How often each {@code dlt-replayed-from} value occurs among the committed records of {@code name}. */
    private Map<String, Integer> replayedFrom(String name) {
        Map<String, Integer> counts = new HashMap<>();
        for (ConsumerRecord<String, byte[]> record : read(name)) {
            counts.merge(DeadLetterRecords.header(record, DeadLetters.REPLAYED_FROM), 1, Integer::sum);
        }
        return counts;
    }

    private static Map<String, Integer> counts(Map<String, AtomicInteger> handled) {
        Map<String, Integer> counts = new HashMap<>();
        handled.forEach((k, v) -> counts.put(k, v.get()));
        return Collections.unmodifiableMap(counts);
    }
}
