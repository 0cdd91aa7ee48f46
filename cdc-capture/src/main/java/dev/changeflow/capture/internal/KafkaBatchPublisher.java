package dev.changeflow.capture.internal;

import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.RoutedChange;
import dev.changeflow.router.TopicRouter;
import dev.changeflow.router.subscription.Outages;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.kafka.sender.KafkaSender;
import reactor.kafka.sender.SenderRecord;
import reactor.util.retry.Retry;

/**
 * Debezium's change consumer: converts each batch, publishes it with reactor-kafka's sender, and marks the batch
 * processed only after Kafka has acknowledged every record in it. A Kafka outage is retried with backoff for as long
 * as it lasts, never skipped; a re-sent batch may duplicate records already acknowledged, with the same eventIds.
 *
 * <p>Publishing is pipelined one batch deep: batch N is handed to the producer before the engine waits for batch
 * N-1's acknowledgements, so reading and converting overlap with Kafka's round trip. The newest batch is settled when
 * the next one arrives; when capture is idle that is the next heartbeat, so offsets trail by at most one heartbeat
 * interval and a crash meanwhile only re-publishes (never loses) that batch.
 */
public final class KafkaBatchPublisher implements DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaBatchPublisher.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

    private final KafkaSender<String, byte[]> sender;
    private final RecordConverter converter;
    private final TopicRouter router;
    private final CaptureMetrics metrics;
    private final SnapshotProgress snapshot;
    /** The batch handed to Kafka last and not yet settled; touched by the engine's thread only. */
    private InFlight inFlight;

    public KafkaBatchPublisher(KafkaSender<String, byte[]> sender, RecordConverter converter, TopicRouter router,
            CaptureMetrics metrics, SnapshotProgress snapshot) {
        this.sender = sender;
        this.converter = converter;
        this.router = router;
        this.metrics = metrics;
        this.snapshot = snapshot;
    }

    @Override
    public void handleBatch(List<RecordChangeEvent<SourceRecord>> records,
            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer) throws InterruptedException {
        List<ChangeEvent> events = new ArrayList<>(records.size());
        List<SenderRecord<String, byte[], Void>> outgoing = new ArrayList<>(records.size());
        for (RecordChangeEvent<SourceRecord> record : records) {
            Optional<ChangeEvent> event = converter.convert(record.record());
            if (event.isPresent()) {
                events.add(event.get());
                outgoing.add(SenderRecord.create(toProducerRecord(router.route(event.get())), null));
            }
        }
        // Hand this batch to the producer now; it keeps per-partition order across batches. Then settle the previous
        // batch, whose acknowledgements arrived while this one was read and converted.
        long sentNanos = System.nanoTime();
        CompletableFuture<Void> acknowledged = outgoing.isEmpty() ? null : send(outgoing);
        if (acknowledged == null) {
            metrics.published(events, 0);
        } else {
            // Measured when Kafka acknowledges, not when the batch is settled (that waits for the next batch).
            acknowledged.thenRun(() -> metrics.published(events, System.nanoTime() - sentNanos));
        }
        InFlight sent = new InFlight(records, events, acknowledged);
        InFlight previous = inFlight;
        inFlight = sent;
        if (previous != null) {
            settle(previous, committer);
        }
        if (outgoing.isEmpty()) {
            // Nothing to wait for (heartbeats, ignored tables): settle at once, so an idle slot keeps advancing.
            inFlight = null;
            settle(sent, committer);
        }
    }

    /**
     * Waits until Kafka acknowledged every record of {@code batch}, then marks its records processed. Runs on the
     * engine's thread only, as Debezium's committer requires.
     */
    private void settle(InFlight batch, DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        if (batch.acknowledged != null) {
            await(batch.acknowledged);
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
            CompletableFuture<Void> acknowledged) {
    }

    /**
     * Sends a batch; the future completes when Kafka acknowledged all of it. An outage is retried with backoff for as
     * long as it lasts (re-sending the batch, so already-acknowledged records may be duplicated with the same eventId);
     * any other failure completes the future exceptionally.
     */
    private CompletableFuture<Void> send(List<SenderRecord<String, byte[], Void>> outgoing) {
        return sender.send(Flux.fromIterable(outgoing))
                .doOnNext(result -> {
                    if (result.exception() != null) {
                        throw reactor.core.Exceptions.propagate(result.exception());
                    }
                })
                .then()
                .retryWhen(Retry.backoff(Long.MAX_VALUE, FIRST_BACKOFF).maxBackoff(MAX_BACKOFF)
                        .filter(Outages::isOutage)
                        .doBeforeRetry(signal -> LOG.warn("Kafka unavailable ({}); retrying batch of {} (attempt {})",
                                signal.failure().toString(), outgoing.size(), signal.totalRetries() + 1)))
                .toFuture();
    }

    private static void await(CompletableFuture<Void> acknowledged) throws InterruptedException {
        try {
            acknowledged.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("Kafka rejected a batch: " + e.getCause(), e.getCause());
        }
    }

    private static ProducerRecord<String, byte[]> toProducerRecord(RoutedChange change) {
        RecordHeaders headers = new RecordHeaders();
        change.headers().forEach((k, v) -> headers.add(k, v.getBytes(StandardCharsets.UTF_8)));
        return new ProducerRecord<>(change.topic(), null, change.key(), change.value(), headers);
    }
}
