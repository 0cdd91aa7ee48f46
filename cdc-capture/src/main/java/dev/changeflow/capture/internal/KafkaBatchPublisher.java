package dev.changeflow.capture.internal;

import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.RoutedChange;
import dev.changeflow.router.StateTopics;
import dev.changeflow.router.TopicRouter;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Debezium's change consumer: converts each batch, hands it to the {@link BatchWriter} of the delivery mode, and marks
 * the batch processed only when the writer reports it durable (acknowledged by Kafka; in exactly-once mode, committed
 * in one transaction with its offsets). A Kafka outage is retried by the writer for as long as it lasts, never
 * skipped.
 *
 * <p>Publishing overlaps one batch deep. When the writer pipelines (at least once), batch N is handed over before the
 * engine waits for batch N-1, so reading and converting overlap with Kafka's round trip; the newest batch is settled
 * when the next one arrives (when capture is idle, the next heartbeat), so offsets trail by at most one heartbeat
 * interval and a crash meanwhile only re-publishes (never loses) that batch. In exactly-once mode batch N is converted
 * while batch N-1's transaction commits, and handed over once it committed.
 */
public final class KafkaBatchPublisher implements DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> {
    private final BatchWriter writer;
    private final RecordConverter converter;
    private final TopicRouter router;
    private final CaptureMetrics metrics;
    private final SnapshotProgress snapshot;
    private final StateTopics stateTopics;
    private final ReadVersions readVersions;
    private final BackfillProgress backfills;
    private final RowSchemaTracker rowSchemas;
    /** The batch handed to Kafka last and not yet settled; touched by the engine's thread only. */
    private InFlight inFlight;

    /** A publisher without state topics or backfills (benchmarks of the change topics alone). */
    public KafkaBatchPublisher(BatchWriter writer, RecordConverter converter, TopicRouter router,
            CaptureMetrics metrics, SnapshotProgress snapshot) {
        this(writer, converter, router, metrics, snapshot, null, null, null, null);
    }

    /**
     * @param stateTopics where each change's state record goes, or null to write none
     * @param readVersions the version of rows read by backfills, or null if there are none
     * @param backfills follows the backfills published, or null
     * @param rowSchemas names each event's row schema version, or null for events without one
     */
    public KafkaBatchPublisher(BatchWriter writer, RecordConverter converter, TopicRouter router,
            CaptureMetrics metrics, SnapshotProgress snapshot, StateTopics stateTopics, ReadVersions readVersions,
            BackfillProgress backfills, RowSchemaTracker rowSchemas) {
        this.writer = writer;
        this.converter = converter;
        this.router = router;
        this.metrics = metrics;
        this.snapshot = snapshot;
        this.stateTopics = stateTopics;
        this.readVersions = readVersions;
        this.backfills = backfills;
        this.rowSchemas = rowSchemas;
    }

    @Override
    public void handleBatch(List<RecordChangeEvent<SourceRecord>> records,
            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer) throws InterruptedException {
        List<ChangeEvent> events = new ArrayList<>(records.size());
        List<ProducerRecord<String, byte[]>> outgoing = new ArrayList<>(records.size());
        List<SourceRecord> source = new ArrayList<>(records.size());
        List<ChangeEvent> blockingSnapshot = new ArrayList<>();
        long readCeiling = readVersions != null
                && records.stream().anyMatch(r -> RecordConverter.isIncrementalRead(r.record()))
                ? readVersions.ceiling() : -1L;
        for (RecordChangeEvent<SourceRecord> record : records) {
            source.add(record.record());
            Optional<ChangeEvent> event = converter.convert(record.record(), readCeiling, rowSchemas);
            if (event.isPresent()) {
                ChangeEvent e = event.get();
                events.add(e);
                if (e.source().snapshot() && !RecordConverter.isIncrementalRead(record.record())) {
                    blockingSnapshot.add(e);
                }
                RoutedChange routed = router.route(e);
                outgoing.add(toProducerRecord(routed));
                if (stateTopics != null) {
                    outgoing.add(stateRecord(e, routed));
                }
            }
        }
        InFlight previous = inFlight;
        if (previous != null && !writer.pipelines()) {
            inFlight = null;
            settle(previous, committer);
            previous = null;
        }
        long sentNanos = System.nanoTime();
        CompletableFuture<Void> durable = writer.write(outgoing, source);
        if (durable == null) {
            metrics.published(events, 0);
        } else {
            // Measured when Kafka acknowledges, not when the batch is settled (that waits for the next batch).
            durable.thenRun(() -> metrics.published(events, System.nanoTime() - sentNanos));
        }
        InFlight sent = new InFlight(records, events, blockingSnapshot, source, durable);
        inFlight = sent;
        if (previous != null) {
            settle(previous, committer);
        }
        if (outgoing.isEmpty()) {
            // No change events (heartbeats, ignored tables): settle at once, so an idle slot keeps advancing.
            inFlight = null;
            settle(sent, committer);
        }
    }

    /**
     * Waits until {@code batch} is durable, then marks its records processed. Runs on the engine's thread only, as
     * Debezium's committer requires.
     */
    private void settle(InFlight batch, DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        if (batch.durable != null) {
            await(batch.durable);
            batch.events.forEach(metrics::captured);
        }
        snapshot.published(batch.blockingSnapshot);
        if (backfills != null) {
            backfills.published(batch.source);
        }
        for (RecordChangeEvent<SourceRecord> record : batch.records) {
            committer.markProcessed(record);
        }
        committer.markBatchFinished();
    }

    /** A batch handed to Kafka and not yet marked processed. */
    private record InFlight(List<RecordChangeEvent<SourceRecord>> records, List<ChangeEvent> events,
            List<ChangeEvent> blockingSnapshot, List<SourceRecord> source, CompletableFuture<Void> durable) {
    }

    /**
     * The state-topic record of a change: same key and headers as its change record, the event as value, or for a
     * delete a tombstone carrying the delete event in a header (see {@link StateTopics}).
     */
    private ProducerRecord<String, byte[]> stateRecord(ChangeEvent event, RoutedChange routed) {
        RecordHeaders headers = new RecordHeaders();
        routed.headers().forEach((k, v) -> headers.add(k, v.getBytes(StandardCharsets.UTF_8)));
        byte[] value = StateTopics.valueOf(event);
        if (value == null) {
            headers.add(StateTopics.DELETE_EVENT_HEADER, routed.value());
        }
        return new ProducerRecord<>(stateTopics.topicFor(event.table()), null, routed.key(), value, headers);
    }

    private static void await(CompletableFuture<Void> durable) throws InterruptedException {
        try {
            durable.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TransactionalBatchWriter.LeaseLostException lost) {
                throw lost;
            }
            throw new IllegalStateException("Kafka rejected a batch: " + e.getCause(), e.getCause());
        }
    }

    private static ProducerRecord<String, byte[]> toProducerRecord(RoutedChange change) {
        RecordHeaders headers = new RecordHeaders();
        change.headers().forEach((k, v) -> headers.add(k, v.getBytes(StandardCharsets.UTF_8)));
        return new ProducerRecord<>(change.topic(), null, change.key(), change.value(), headers);
    }
}
