package dev.changeflow.capture.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.changeflow.router.topics.ProducerDefaults;
import dev.changeflow.stack.KafkaServer;
import dev.changeflow.stack.SharedServers;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.storage.OffsetBackingStore;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exactly-once writer on a real broker: a batch and its offsets in one transaction, fencing of an earlier instance,
 * and the lease as the only licence to write.
 */
class TransactionalBatchWriterIT {
    private static final String ENGINE = "changeflow-capture-test";

    private final String bootstrap = SharedServers.kafka().bootstrapServers();
    private final String id = "w" + UUID.randomUUID().toString().substring(0, 8);
    private final String changes = id + ".changes";
    private final String offsets = id + ".offsets";

    @BeforeEach
    void createTopics() throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(changes, 3, (short) 1), new NewTopic(offsets, 1, (short) 1)
                    .configs(Map.of("cleanup.policy", "compact")))).all().get();
        }
    }

    @Test
    void aBatchAndItsSourceOffsetsBecomeVisibleTogether() throws Exception {
        try (TransactionalBatchWriter writer = open(new AtomicBoolean(true))) {
            writer.write(changes("a", 5), source(100)).get(30, TimeUnit.SECONDS);
        }

        assertThat(committedValues(changes)).containsExactlyInAnyOrder("a0", "a1", "a2", "a3", "a4");
        assertThat(storedLsn()).isEqualTo(100);
    }

    @Test
    void aNewInstanceFencesTheOldOneWhichThenWritesNothing() throws Exception {
        AtomicBoolean oldLease = new AtomicBoolean(true);
        try (TransactionalBatchWriter old = open(oldLease)) {
            old.write(changes("old", 2), source(10)).get(30, TimeUnit.SECONDS);

            // The old instance loses its lease; a new one takes it and initializes the same transactional id.
            oldLease.set(false);
            try (TransactionalBatchWriter current = open(new AtomicBoolean(true))) {
                assertThatThrownBy(() -> old.write(changes("zombie", 3), source(20)).get(30, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .hasCauseInstanceOf(TransactionalBatchWriter.LeaseLostException.class);
                current.write(changes("new", 2), source(30)).get(30, TimeUnit.SECONDS);
            }
        }

        assertThat(committedValues(changes)).containsExactlyInAnyOrder("old0", "old1", "new0", "new1");
        assertThat(storedLsn()).isEqualTo(30);
    }

    @Test
    void anInstanceFencedWhileItStillHoldsTheLeaseTakesTheIdBackAndWritesItsBatchOnce() throws Exception {
        AtomicBoolean intruderLease = new AtomicBoolean(true);
        try (TransactionalBatchWriter holder = open(new AtomicBoolean(true));
                TransactionalBatchWriter intruder = open(intruderLease)) {
            // The intruder's initialization fenced the holder, which still holds the lease: it re-initializes.
            holder.write(changes("holder", 3), source(40)).get(30, TimeUnit.SECONDS);
            intruderLease.set(false);
            assertThatThrownBy(() -> intruder.write(changes("intruder", 1), source(50)).get(30, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(TransactionalBatchWriter.LeaseLostException.class);
        }

        assertThat(committedValues(changes)).containsExactlyInAnyOrder("holder0", "holder1", "holder2");
        assertThat(storedLsn()).isEqualTo(40);
    }

    @Test
    void clearingCaptureOffsetsFencesACaptureWhoseTransactionIsStillOpenSoItsOffsetsNeverLand() throws Exception {
        try (TransactionalBatchWriter writer = open(new AtomicBoolean(true))) {
            writer.write(changes("before", 1), source(60)).get(30, TimeUnit.SECONDS);
        }
        // A capture that lost its lease mid-batch: its transaction, offsets included, is open when the tool runs.
        Map<String, Object> config = durable();
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
        try (var zombie = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(config)) {
            zombie.initTransactions();
            zombie.beginTransaction();
            changes("late", 1).forEach(zombie::send);
            new SourceOffsets(ENGINE, offsets).of(source(70)).forEach(zombie::send);
            zombie.flush();

            assertThat(CaptureOffsets.clear(bootstrap, offsets, ENGINE, id)).isEqualTo(1);

            assertThatThrownBy(zombie::commitTransaction).as("the zombie's commit after the tool took its id")
                    .isInstanceOf(org.apache.kafka.common.KafkaException.class);
        }
        assertThat(CaptureOffsets.read(bootstrap, offsets, ENGINE)).as("the cleared offsets stay cleared").isEmpty();
        assertThat(committedValues(changes)).containsExactly("before0");
    }

    @Test
    void theOffsetStoreReadsOnlyCommittedOffsets() throws Exception {
        try (TransactionalBatchWriter writer = open(new AtomicBoolean(true))) {
            writer.write(List.of(), source(7)).get(30, TimeUnit.SECONDS);
        }
        // A transaction left open by a capture that died: its offsets must not count.
        Map<String, Object> config = durable();
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id + "-dead");
        try (var dead = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(config)) {
            dead.initTransactions();
            dead.beginTransaction();
            new SourceOffsets(ENGINE, offsets).of(source(999)).forEach(dead::send);
            dead.flush();

            OffsetBackingStore store = new CommittedOffsetStore();
            store.configure(new org.apache.kafka.connect.runtime.standalone.StandaloneConfig(Map.of(
                    "bootstrap.servers", bootstrap, "offset.storage.topic", offsets, "name", ENGINE,
                    "offset.storage.file.filename", "unused",
                    "key.converter", "org.apache.kafka.connect.json.JsonConverter",
                    "value.converter", "org.apache.kafka.connect.json.JsonConverter")));
            store.start();
            ByteBuffer key = ByteBuffer.wrap(new SourceOffsets(ENGINE, offsets).of(source(0)).get(0).key()
                    .getBytes(StandardCharsets.UTF_8));
            ByteBuffer value = store.get(List.of(key)).get().get(key);
            assertThat(new String(value.array(), StandardCharsets.UTF_8)).contains("\"lsn\":7");
            assertThat(store.connectorPartitions(ENGINE)).containsExactly(Map.of("server", "changeflow"));
            store.stop();
            dead.abortTransaction();
        }
    }

    @Test
    void aBatchCaughtInAKafkaOutageIsRetriedUntilKafkaIsBackAndCommittedOnce(@TempDir Path dir)
            throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        KafkaServer own = KafkaServer.startPersistent(dir, port);
        try {
            String bootstrap = own.bootstrapServers();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic(changes, 3, (short) 1), new NewTopic(offsets, 1, (short) 1)
                        .configs(Map.of("cleanup.policy", "compact")))).all().get();
            }
            Map<String, Object> config = ProducerDefaults.durable(
                    Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), "writer-test");
            config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
            // Kafka's client gives up on a blocking call after 1 s instead of 60 s, so the commit times out.
            config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1000);
            try (TransactionalBatchWriter writer = TransactionalBatchWriter.open(config, ENGINE, offsets, () -> true)) {
                writer.write(changes("before", 1), source(1)).get(30, TimeUnit.SECONDS);
                own.close();
                CompletableFuture<Void> during = writer.write(changes("during", 4), source(2));
                await("the batch waits while Kafka is away").during(Duration.ofSeconds(4))
                        .atMost(Duration.ofSeconds(10)).until(() -> !during.isDone());
                own = KafkaServer.startPersistent(dir, port);
                during.get(90, TimeUnit.SECONDS);
            }
            assertThat(committedValues(bootstrap, changes))
                    .containsExactlyInAnyOrder("before0", "during0", "during1", "during2", "during3");
            assertThat(storedLsn(bootstrap)).isEqualTo(2);
        } finally {
            own.close();
        }
    }

    private TransactionalBatchWriter open(AtomicBoolean lease) {
        Map<String, Object> config = durable();
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
        return TransactionalBatchWriter.open(config, ENGINE, offsets, lease::get);
    }

    private List<ProducerRecord<String, byte[]>> changes(String prefix, int count) {
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            records.add(new ProducerRecord<>(changes, "k" + i, (prefix + i).getBytes(StandardCharsets.UTF_8)));
        }
        return records;
    }

    private static List<SourceRecord> source(long lsn) {
        return List.of(new SourceRecord(Map.of("server", "changeflow"), Map.of("lsn", lsn), "t", null, null));
    }

    private long storedLsn() {
        return storedLsn(bootstrap);
    }

    private long storedLsn(String bootstrap) {
        Map<ByteBuffer, byte[]> stored = CaptureOffsets.read(bootstrap, offsets, ENGINE);
        assertThat(stored).hasSize(1);
        String value = new String(stored.values().iterator().next(), StandardCharsets.UTF_8);
        return Long.parseLong(value.replaceAll(".*\"lsn\":(\\d+).*", "$1"));
    }

    /** Every value in {@code topic} as a read_committed consumer sees it. */
    private List<String> committedValues(String topic) {
        return committedValues(bootstrap, topic);
    }

    private static List<String> committedValues(String bootstrap, String topic) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))
                    && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
            }
        }
        return values;
    }

    /** The design's producer settings for this test's writers. */
    private Map<String, Object> durable() {
        return ProducerDefaults.durable(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), "writer-test");
    }
}
