package dev.changeflow.capture.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * How far one capture run has got on its change topics, in either delivery mode, and when it got there.
 *
 * <p>End offsets count more than records in exactly-once mode: each transaction commit appends a control marker to
 * every partition it wrote, and an aborted transaction's records stay in the log. So the watch never counts offsets.
 * While capture runs, {@link #poll} reads only the partitions' last stable offsets (one admin call, as cheap as reading
 * the end offsets; below the last stable offset every transaction is decided, and without transactions it is the end
 * offset) and keeps a snapshot, with its time, whenever they moved. The stable offsets growing by the burst is
 * necessary for the burst to be complete (records plus markers), not sufficient. {@link #countCommitted} then reads the
 * new part of the topics with a {@code read_committed} consumer, which returns exactly the committed data records
 * (no markers, nothing aborted), and notes their offsets; {@link #firstSnapshotWith} finds the first snapshot below
 * whose stable offsets that many committed records lie: the time the last of them became visible to
 * {@code read_committed} readers. The count runs once capture has been quiet for a moment after the necessary
 * condition, so reading does not compete with capture's last batches; the times come from the snapshots, so the
 * pause costs no accuracy.
 */
final class ChangeTopicWatch implements AutoCloseable {
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

    private final String bootstrap;
    private final Admin admin;
    private final List<TopicPartition> partitions = new ArrayList<>();
    private final Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    /** The end offsets when the watch was made: the records of this run lie at or above. */
    private final long[] start;
    private final List<Long> snapshotNanos = new ArrayList<>();
    private final List<long[]> snapshots = new ArrayList<>();
    private long[] latest;
    private long latestChangeNanos;
    /** Per partition, in ascending order: the offsets of the committed data records counted so far. */
    private final long[][] dataOffsets;
    private final int[] dataCounts;
    private long counted;
    private KafkaConsumer<byte[], byte[]> consumer;

    ChangeTopicWatch(String bootstrap, List<String> topics) throws Exception {
        this.bootstrap = bootstrap;
        this.admin = Admin.create(Map.of("bootstrap.servers", bootstrap));
        admin.describeTopics(topics).allTopicNames().get().values().forEach(d -> d.partitions().forEach(
                p -> partitions.add(new TopicPartition(d.name(), p.partition()))));
        partitions.sort(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
        partitions.forEach(tp -> request.put(tp, OffsetSpec.latest()));
        start = offsets(IsolationLevel.READ_UNCOMMITTED);
        latest = offsets(IsolationLevel.READ_COMMITTED);
        latestChangeNanos = System.nanoTime();
        dataOffsets = new long[partitions.size()][];
        dataCounts = new int[partitions.size()];
        for (int i = 0; i < dataOffsets.length; i++) {
            dataOffsets[i] = new long[256];
        }
    }

    /**
     * Reads the last stable offsets and keeps them as a snapshot if they moved.
     *
     * @return how much they have grown since the watch was made (records and transaction markers)
     */
    long poll() throws Exception {
        long[] stable = offsets(IsolationLevel.READ_COMMITTED);
        long now = System.nanoTime();
        if (!Arrays.equals(stable, latest)) {
            latest = stable;
            latestChangeNanos = now;
            snapshots.add(stable);
            snapshotNanos.add(now);
        }
        return growth(stable);
    }

    /** Nanoseconds since the stable offsets last moved (or since the watch was made). */
    long quietNanos() {
        return System.nanoTime() - latestChangeNanos;
    }

    /**
     * Counts, with a {@code read_committed} consumer, the committed data records from where the watch started up to
     * the latest stable offsets read (those of {@link #poll}, or read now if {@code readStableNow}). Continues from the
     * previous count.
     *
     * @return every committed data record counted so far
     */
    long countCommitted(boolean readStableNow) throws Exception {
        long[] target = readStableNow ? offsets(IsolationLevel.READ_COMMITTED) : latest;
        if (consumer == null) {
            consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                    ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10_000),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer());
            consumer.assign(partitions);
            for (int i = 0; i < partitions.size(); i++) {
                consumer.seek(partitions.get(i), start[i]);
            }
        }
        Map<TopicPartition, Integer> index = new HashMap<>();
        for (int i = 0; i < partitions.size(); i++) {
            index.put(partitions.get(i), i);
        }
        long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
        while (behind(target)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("could not read the change topics to their stable offsets within "
                        + READ_TIMEOUT.toSeconds() + " s");
            }
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                int p = index.get(new TopicPartition(r.topic(), r.partition()));
                if (dataCounts[p] == dataOffsets[p].length) {
                    dataOffsets[p] = Arrays.copyOf(dataOffsets[p], dataOffsets[p].length * 2);
                }
                dataOffsets[p][dataCounts[p]++] = r.offset();
                counted++;
            }
        }
        return counted;
    }

    private boolean behind(long[] target) {
        for (int i = 0; i < partitions.size(); i++) {
            if (consumer.position(partitions.get(i)) < target[i]) {
                return true;
            }
        }
        return false;
    }

    /** Committed data records counted so far ({@link #countCommitted}). */
    long counted() {
        return counted;
    }

    /**
     * The first snapshot below whose stable offsets at least {@code records} of the counted committed data records lie.
     *
     * @return its index, or -1 if no snapshot has that many (yet)
     */
    int firstSnapshotWith(long records) {
        int lo = 0;
        int hi = snapshots.size() - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (recordsBelow(snapshots.get(mid)) >= records) {
                found = mid;
                hi = mid - 1;
            } else {
                lo = mid + 1;
            }
        }
        return found;
    }

    /** When snapshot {@code index} was read ({@link System#nanoTime}). */
    long snapshotNanos(int index) {
        return snapshotNanos.get(index);
    }

    /** Counted committed data records below snapshot {@code index}'s stable offsets. */
    long recordsAt(int index) {
        return recordsBelow(snapshots.get(index));
    }

    /** How much the end offsets (records, transaction markers, aborted records) have grown since the watch was made. */
    long endOffsetGrowth() throws Exception {
        return growth(offsets(IsolationLevel.READ_UNCOMMITTED));
    }

    private long recordsBelow(long[] stable) {
        long sum = 0;
        for (int p = 0; p < stable.length; p++) {
            int i = Arrays.binarySearch(dataOffsets[p], 0, dataCounts[p], stable[p]);
            sum += i >= 0 ? i : -i - 1;
        }
        return sum;
    }

    private long growth(long[] offsets) {
        long sum = 0;
        for (int i = 0; i < offsets.length; i++) {
            sum += offsets[i] - start[i];
        }
        return sum;
    }

    /** The partitions' end offsets (read uncommitted) or last stable offsets (read committed), in partition order. */
    private long[] offsets(IsolationLevel isolation) throws Exception {
        var result = admin.listOffsets(request, new ListOffsetsOptions(isolation)).all().get();
        long[] out = new long[partitions.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = result.get(partitions.get(i)).offset();
        }
        return out;
    }

    @Override
    public void close() {
        if (consumer != null) {
            consumer.close();
        }
        admin.close();
    }
}
