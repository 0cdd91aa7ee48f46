package dev.changeflow.router.ops;

import dev.changeflow.router.TopicRouter;
import dev.changeflow.router.subscription.DeadLetterHeaders;
import dev.changeflow.router.topics.KafkaReachability;
import dev.changeflow.router.topics.ProducerDefaults;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dead-letter topics ({@code <topic>.dlt}) as an operator sees them: {@linkplain #list() which exist} and how
 * much of each is still to replay, {@linkplain #records their records}, and {@linkplain #replay replay} to the
 * original topics once the cause of the failures is fixed.
 *
 * <p><b>A record is never replayed twice</b>, across runs, crashes and operators replaying at the same time. Each
 * replayed record and its entry in the ledger, the compacted topic {@value #LEDGER_TOPIC} keyed
 * {@code <dlt topic>/<partition>/<offset>}, are written in one Kafka transaction (commits every
 * {@value #CHUNK_SIZE} records), by a producer whose {@code transactional.id} is
 * {@code changeflow-dlt-replay-<dlt topic>}. A replay starts that producer (which aborts whatever an earlier replayer
 * of the same DLT left open, and fences that replayer off), then reads the ledger with {@code read_committed} to its
 * end, then replays the matching records that have no entry. Of two replays of one DLT running at once, the later
 * fences the earlier, which stops with {@link ReplayTakenOverException}; what the earlier committed stays replayed and
 * is skipped by the later one. Consumers must read the original topics with {@code read_committed} (the subscription
 * runtime does) so that they never see a replayed record whose transaction was aborted.
 *
 * <p>Record values may hold personal data: they are republished byte for byte but never logged or returned.
 *
 * <p>Thread-safe: an instance holds only configuration; each call opens, and closes before it returns, its own Kafka
 * clients. Calls block. Kafka failures propagate as {@link KafkaException}s.
 */
public final class DeadLetters {
    /** The ledger of replays: compacted, one partition, never deleted. */
    public static final String LEDGER_TOPIC = "changeflow.dlt-replays";
    /** Header of a replayed record: {@code <dlt topic>/<partition>/<offset>} of the dead letter it came from. */
    public static final String REPLAYED_FROM = "dlt-replayed-from";
    /** Records replayed per transaction. */
    public static final int CHUNK_SIZE = 250;

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetters.class);
    private static final String DLT_SUFFIX = TopicRouter.deadLetterTopicFor("");
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final Map<String, Object> clientProperties;
    private final int ledgerReplicationFactor;

    private DeadLetters(Map<String, Object> clientProperties, int ledgerReplicationFactor) {
        Objects.requireNonNull(clientProperties, "clientProperties");
        if (!clientProperties.containsKey("bootstrap.servers")) {
            throw new IllegalArgumentException("clientProperties must contain bootstrap.servers");
        }
        if (ledgerReplicationFactor < 1) {
            throw new IllegalArgumentException("ledgerReplicationFactor must be at least 1, was "
                    + ledgerReplicationFactor);
        }
        this.clientProperties = Map.copyOf(clientProperties);
        this.ledgerReplicationFactor = ledgerReplicationFactor;
    }

    /**
     * Dead letters of the cluster that {@code clientProperties} reach.
     *
     * @param clientProperties Kafka client properties: {@code bootstrap.servers} and any security settings
     * @param ledgerReplicationFactor the replication factor of {@value #LEDGER_TOPIC} should a replay have to create
     *     it (1 on a single local broker, 3 in production); its {@code min.insync.replicas} is min(2, this)
     * @throws IllegalArgumentException if {@code bootstrap.servers} is missing or the replication factor is below 1
     */
    public static DeadLetters create(Map<String, Object> clientProperties, int ledgerReplicationFactor) {
        return new DeadLetters(clientProperties, ledgerReplicationFactor);
    }

    /**
     * One dead-letter topic.
     *
     * @param records how many records it holds now (the sum over partitions of end minus start offset)
     * @param replayed how many of those were replayed
     * @param pending {@code records - replayed}
     */
    public record TopicSummary(String topic, long records, long replayed, long pending) {
    }

    /**
     * One dead-lettered record, without its value. Header fields are null when the header is absent (or, for numbers,
     * unreadable).
     *
     * @param timestamp the record's timestamp on the dead-letter topic
     * @param failedAt its {@code dlt-failed-at} header, or {@code timestamp} if absent or unreadable; never null
     * @param replayed whether the ledger holds a replay of it
     */
    public record DeadLetter(String topic, int partition, long offset, Instant timestamp, String key, String reason,
            String errorClass, String errorMessage, Instant failedAt, String group, String originalTopic,
            Integer originalPartition, Long originalOffset, boolean replayed) {
    }

    /**
     * Which dead letters an operation applies to: all, those whose key equals {@link #key}, or those that failed at or
     * after {@link #since} ({@code dlt-failed-at}, else the record's timestamp). At most one of the two is set.
     */
    public record Filter(String key, Instant since) {
        public Filter {
            if (key != null && since != null) {
                throw new IllegalArgumentException("Filter by key or by time, not both");
            }
        }

        /** Every record. */
        public static Filter all() {
            return new Filter(null, null);
        }

        /** Records whose key equals {@code key}. */
        public static Filter key(String key) {
            return new Filter(Objects.requireNonNull(key, "key"), null);
        }

        /** Records that failed at or after {@code since}. */
        public static Filter since(Instant since) {
            return new Filter(null, Objects.requireNonNull(since, "since"));
        }

        /** Whether a record with {@code recordKey} (may be null) that failed at {@code failedAt} matches. */
        public boolean matches(String recordKey, Instant failedAt) {
            if (key != null) {
                return key.equals(recordKey);
            }
            return since == null || !failedAt.isBefore(since);
        }

        boolean matches(ConsumerRecord<String, byte[]> record) {
            return matches(record.key(), DeadLetterRecords.failedAt(record));
        }

        /** For people: {@code all records}, {@code key K}, {@code failed since T}. */
        @Override
        public String toString() {
            return key != null ? "key " + key : since != null ? "failed since " + since : "all records";
        }
    }

    /**
     * What a replay did.
     *
     * @param matched records of the DLT (up to its end when the replay started) that matched the filter
     * @param replayed of those, how many this replay republished
     * @param alreadyReplayed of those, how many had been replayed before and were skipped
     * @param refused of those, how many have no {@code dlt-original-topic} header and so cannot be replayed
     */
    public record ReplayResult(long matched, long replayed, long alreadyReplayed, long refused) {
    }

    /** Shows a replay's progress; {@code Progress::start} shows it on standard error. */
    @FunctionalInterface
    public interface ProgressFactory {
        Progress start(String task, long total, String unit);
    }

    /**
     * A replay was fenced off by a replay of the same dead-letter topic that started after it. Nothing is lost or
     * repeated: the records this one committed ({@link #replayed()}) stay replayed, the rest were not republished;
     * the other replay, or the next one, replays what is left.
     */
    public static final class ReplayTakenOverException extends IllegalStateException {
        private static final long serialVersionUID = 1L;
        private final long replayed;

        ReplayTakenOverException(String dltTopic, long replayed, Throwable cause) {
            super("Another replay of " + dltTopic + " started and took over; this one had replayed " + replayed
                    + " record(s), which stay replayed. Run the replay again to replay whatever is still pending",
                    cause);
            this.replayed = replayed;
        }

        /** How many records this replay had committed before it was fenced off. */
        public long replayed() {
            return replayed;
        }
    }

    /**
     * Every dead-letter topic (name ending in {@code .dlt}), sorted by name, with how many records it holds, how many
     * of them were replayed and how many are pending. Reads the ledger but never creates it.
     *
     * @return never null; empty if there is no dead-letter topic
     */
    public List<TopicSummary> list() {
        try (Admin admin = admin()) {
            Set<String> names = admin.listTopics().names().get();
            List<String> dlts = names.stream().filter(n -> n.endsWith(DLT_SUFFIX)).sorted().toList();
            if (dlts.isEmpty()) {
                return List.of();
            }
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (TopicDescription d : admin.describeTopics(dlts).allTopicNames().get().values()) {
                d.partitions().forEach(p -> {
                    earliest.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.earliest());
                    latest.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest());
                });
            }
            ListOffsetsOptions committed = new ListOffsetsOptions(IsolationLevel.READ_COMMITTED);
            Map<TopicPartition, ListOffsetsResultInfo> starts = admin.listOffsets(earliest, committed).all().get();
            Map<TopicPartition, ListOffsetsResultInfo> ends = admin.listOffsets(latest, committed).all().get();
            Set<String> replayed = names.contains(LEDGER_TOPIC) ? ReplayLedger.replayed(clientProperties, "")
                    : Set.of();
            Map<String, long[]> counts = new HashMap<>();
            dlts.forEach(t -> counts.put(t, new long[2]));
            starts.forEach((tp, start) -> counts.get(tp.topic())[0] += ends.get(tp).offset() - start.offset());
            for (String key : replayed) {
                int offsetSlash = key.lastIndexOf('/');
                int partitionSlash = key.lastIndexOf('/', offsetSlash - 1);
                if (partitionSlash <= 0) {
                    continue;
                }
                try {
                    TopicPartition tp = new TopicPartition(key.substring(0, partitionSlash),
                            Integer.parseInt(key.substring(partitionSlash + 1, offsetSlash)));
                    long offset = Long.parseLong(key.substring(offsetSlash + 1));
                    // Only entries of records still present count: retention may have removed older ones.
                    if (starts.containsKey(tp) && offset >= starts.get(tp).offset() && offset < ends.get(tp).offset()) {
                        counts.get(tp.topic())[1]++;
                    }
                } catch (NumberFormatException e) {
                    // Not an entry of ours; ignore it.
                }
            }
            return dlts.stream().map(t -> new TopicSummary(t, counts.get(t)[0], counts.get(t)[1],
                    counts.get(t)[0] - counts.get(t)[1])).toList();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while listing dead-letter topics", e);
        } catch (ExecutionException e) {
            throw kafkaFailure("Could not list dead-letter topics", e);
        }
    }

    /**
     * The records of {@code dltTopic} that match {@code filter}, in partition then offset order, each saying whether
     * it was replayed. Reads up to the end offsets at the time of the call. Reads the ledger but never creates it.
     *
     * @return never null
     * @throws IllegalArgumentException if {@code dltTopic} is not an existing topic whose name ends in {@code .dlt}
     */
    public List<DeadLetter> records(String dltTopic, Filter filter) {
        Objects.requireNonNull(filter, "filter");
        boolean ledgerExists;
        try (Admin admin = admin()) {
            ledgerExists = checkDeadLetterTopic(admin, dltTopic).contains(LEDGER_TOPIC);
        }
        Set<String> replayed = ledgerExists ? ReplayLedger.replayed(clientProperties, dltTopic + "/") : Set.of();
        List<DeadLetter> result = new ArrayList<>();
        try (DeadLetterScan scan = new DeadLetterScan(clientProperties, dltTopic, "changeflow-dlt-list")) {
            scan.forEach(record -> {
                if (filter.matches(record)) {
                    result.add(DeadLetterRecords.describe(record,
                            replayed.contains(DeadLetterRecords.coordinates(record))));
                }
            });
        }
        result.sort(Comparator.comparingInt(DeadLetter::partition).thenComparingLong(DeadLetter::offset));
        return List.copyOf(result);
    }

    /** {@link #replay(String, Filter, ProgressFactory)} showing progress on standard error. */
    public ReplayResult replay(String dltTopic, Filter filter) {
        return replay(dltTopic, filter, Progress::start);
    }

    /**
     * Republishes every record of {@code dltTopic} that matches {@code filter} and was not replayed before, to the
     * topic of its {@code dlt-original-topic} header: same key, same value, its headers without any {@code dlt-*}
     * header, plus {@value #REPLAYED_FROM}. Reads the DLT up to its end offsets when the replay starts: records
     * dead-lettered meanwhile wait for the next replay. Records without {@code dlt-original-topic} are refused
     * (counted, logged with their coordinates) and the replay goes on. Creates the ledger topic if it is missing.
     *
     * @param progress shows the records read of the DLT; the progress is closed before this returns
     * @return the counts; never null
     * @throws IllegalArgumentException if {@code dltTopic} is not an existing topic whose name ends in {@code .dlt}
     * @throws IllegalStateException if a record's original topic does not exist (nothing of its chunk is replayed)
     * @throws ReplayTakenOverException if a later replay of the same DLT fenced this one off
     * @throws KafkaException if Kafka fails; the chunk in progress is aborted, earlier chunks stay replayed
     */
    public ReplayResult replay(String dltTopic, Filter filter, ProgressFactory progress) {
        Objects.requireNonNull(filter, "filter");
        Objects.requireNonNull(progress, "progress");
        Set<String> topics;
        try (Admin admin = admin()) {
            topics = checkDeadLetterTopic(admin, dltTopic);
            if (!topics.contains(LEDGER_TOPIC)) {
                ReplayLedger.ensure(admin, ledgerReplicationFactor);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while creating " + LEDGER_TOPIC, e);
        } catch (ExecutionException e) {
            throw kafkaFailure("Could not create " + LEDGER_TOPIC, e);
        }
        KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerConfig(dltTopic));
        boolean done = false;
        try {
            // First: fences any earlier replayer of this DLT and settles its open transaction, so the ledger read
            // next is complete.
            producer.initTransactions();
            Set<String> replayed = ReplayLedger.replayed(clientProperties, dltTopic + "/");
            try (DeadLetterScan scan = new DeadLetterScan(clientProperties, dltTopic, "changeflow-dlt-replay");
                    Progress bar = progress.start("replay " + dltTopic, scan.size(), "records")) {
                LOG.info("Replaying {} ({}): {} records to read, up to offsets {}", dltTopic, filter, scan.size(),
                        scan.ends());
                Replay replay = new Replay(dltTopic, producer, replayed, topics);
                try {
                    scan.forEach(record -> {
                        replay.offer(record, filter);
                        bar.advance(1);
                    });
                    replay.commit();
                } catch (RuntimeException e) {
                    throw replay.failed(e);
                }
                ReplayResult result = replay.result();
                LOG.info("Replayed {} ({}): replayed {}, already replayed {}, refused {}, matched {}", dltTopic, filter,
                        result.replayed(), result.alreadyReplayed(), result.refused(), result.matched());
                done = true;
                return result;
            }
        } catch (ProducerFencedException | InvalidProducerEpochException e) {
            // initTransactions itself can be fenced by a replayer that started a moment later.
            throw new ReplayTakenOverException(dltTopic, 0, e);
        } finally {
            // After a failure nothing is left worth sending (the transaction is aborted or fenced), and a fenced
            // producer's close() would otherwise wait out the request timeout for its batches.
            producer.close(done ? CLOSE_TIMEOUT : Duration.ZERO);
        }
    }

    /** The state of one replay run: counts and the open transaction. Not thread-safe. */
    private static final class Replay {
        private final String dltTopic;
        private final KafkaProducer<String, byte[]> producer;
        private final Set<String> replayedBefore;
        private final Set<String> topics;
        private long matched;
        private long replayed;
        private long alreadyReplayed;
        private long refused;
        private int inTransaction;

        Replay(String dltTopic, KafkaProducer<String, byte[]> producer, Set<String> replayedBefore,
                Set<String> topics) {
            this.dltTopic = dltTopic;
            this.producer = producer;
            this.replayedBefore = replayedBefore;
            this.topics = topics;
        }

        void offer(ConsumerRecord<String, byte[]> record, Filter filter) {
            if (!filter.matches(record)) {
                return;
            }
            matched++;
            String coordinates = DeadLetterRecords.coordinates(record);
            if (replayedBefore.contains(coordinates)) {
                alreadyReplayed++;
                return;
            }
            String originalTopic = DeadLetterRecords.header(record, DeadLetterHeaders.ORIGINAL_TOPIC);
            if (originalTopic == null || originalTopic.isBlank()) {
                refused++;
                LOG.warn("Not replaying {} (key {}): it has no {} header", coordinates, record.key(),
                        DeadLetterHeaders.ORIGINAL_TOPIC);
                return;
            }
            if (!topics.contains(originalTopic.trim())) {
                throw new IllegalStateException("The original topic " + originalTopic + " of " + coordinates
                        + " does not exist; create it, or replay with a filter that leaves this record out");
            }
            if (inTransaction == 0) {
                producer.beginTransaction();
            }
            producer.send(DeadLetterRecords.replayOf(record));
            producer.send(new ProducerRecord<>(LEDGER_TOPIC, coordinates,
                    ReplayLedger.entry(originalTopic.trim(), Instant.now()).getBytes(StandardCharsets.UTF_8)));
            inTransaction++;
            if (inTransaction >= CHUNK_SIZE) {
                commit();
            }
        }

        /** Commits the open transaction, if any. */
        void commit() {
            if (inTransaction > 0) {
                producer.commitTransaction();
                replayed += inTransaction;
                inTransaction = 0;
            }
        }

        /** Aborts the open transaction if that is still possible, and says what to throw. */
        RuntimeException failed(RuntimeException e) {
            if (isFenced(e)) {
                // A fenced producer cannot abort; the replayer that fenced it already did.
                LOG.warn("Replay of {} taken over by a later replay of it, after {} record(s) replayed here",
                        dltTopic, replayed);
                return new ReplayTakenOverException(dltTopic, replayed, e);
            }
            if (inTransaction > 0) {
                try {
                    producer.abortTransaction();
                } catch (RuntimeException abortFailure) {
                    e.addSuppressed(abortFailure);
                }
            }
            return e;
        }

        ReplayResult result() {
            return new ReplayResult(matched, replayed, alreadyReplayed, refused);
        }
    }

    private static boolean isFenced(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException) {
                return true;
            }
        }
        return false;
    }

    private Map<String, Object> producerConfig(String dltTopic) {
        Map<String, Object> config = ProducerDefaults.durable(clientProperties, "changeflow-dlt-replay");
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "changeflow-dlt-replay-" + dltTopic);
        return config;
    }

    private Admin admin() {
        return Admin.create(KafkaReachability.adminConfig(clientProperties, ADMIN_TIMEOUT));
    }

    /** The cluster's topic names, once {@code dltTopic} is known to be one of them and to end in {@code .dlt}. */
    private static Set<String> checkDeadLetterTopic(Admin admin, String dltTopic) {
        Objects.requireNonNull(dltTopic, "dltTopic");
        if (!dltTopic.endsWith(DLT_SUFFIX)) {
            throw new IllegalArgumentException(dltTopic + " is not a dead-letter topic: their names end in "
                    + DLT_SUFFIX);
        }
        Set<String> names;
        try {
            names = admin.listTopics().names().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while listing topics", e);
        } catch (ExecutionException e) {
            throw kafkaFailure("Could not list topics", e);
        }
        if (!names.contains(dltTopic)) {
            throw new IllegalArgumentException("Dead-letter topic " + dltTopic + " does not exist; existing: "
                    + names.stream().filter(n -> n.endsWith(DLT_SUFFIX)).sorted().toList());
        }
        return names;
    }

    private static KafkaException kafkaFailure(String what, ExecutionException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        return cause instanceof KafkaException k ? k : new KafkaException(what + ": " + cause, cause);
    }
}
