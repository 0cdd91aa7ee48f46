package dev.changeflow.capture.internal;

import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.RoutedChange;
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
    /** The batch handed to Kafka last and not yet settled; touched by the engine's thread only. */
    private InFlight inFlight;

    public KafkaBatchPublisher(BatchWriter writer, RecordConverter converter, TopicRouter router,
            CaptureMetrics metrics, SnapshotProgress snapshot) {
        this.writer = writer;
        this.converter = converter;
        this.router = router;
        this.metrics = metrics;
        this.snapshot = snapshot;
    }

    @Override
    public void handleBatch(List<RecordChangeEvent<SourceRecord>> records,
            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer) throws InterruptedException {
        List<ChangeEvent> events = new ArrayList<>(records.size());
        List<ProducerRecord<String, byte[]>> outgoing = new ArrayList<>(records.size());
        List<SourceRecord> source = new ArrayList<>(records.size());
        for (RecordChangeEvent<SourceRecord> record : records) {
            source.add(record.record());
            Optional<ChangeEvent> event = converter.convert(record.record());
            if (event.isPresent()) {
                events.add(event.get());
                outgoing.add(toProducerRecord(router.route(event.get())));
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
        InFlight sent = new InFlight(records, events, durable);
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
        snapshot.published(batch.events);
        for (RecordChangeEvent<SourceRecord> record : batch.records) {
            committer.markProcessed(record);
        }
        committer.markBatchFinished();
    }

    /** A batch handed to Kafka and not yet marked processed. */
    private record InFlight(List<RecordChangeEvent<SourceRecord>> records, List<ChangeEvent> events,
            CompletableFuture<Void> durable) {
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
