package dev.changeflow.capture.internal;

import dev.changeflow.router.subscription.Outages;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.kafka.sender.KafkaSender;
import reactor.kafka.sender.SenderRecord;
import reactor.util.retry.Retry;

/**
 * At-least-once delivery: sends a batch with reactor-kafka's sender (idempotent, {@code acks=all}) and reports it
 * durable when Kafka acknowledged every record. The engine writes the offsets afterwards, so a crash re-publishes what
 * was acknowledged since its last offset flush, with the same eventIds. A Kafka outage is retried with backoff for as
 * long as it lasts, re-sending the batch (already-acknowledged records may be duplicated); any other failure completes
 * the batch exceptionally. The sender is shared; closing this writer leaves it open.
 */
public final class AcknowledgedBatchWriter implements BatchWriter {
    private static final Logger LOG = LoggerFactory.getLogger(AcknowledgedBatchWriter.class);

    private final KafkaSender<String, byte[]> sender;

    public AcknowledgedBatchWriter(KafkaSender<String, byte[]> sender) {
        this.sender = sender;
    }

    @Override
    public CompletableFuture<Void> write(List<ProducerRecord<String, byte[]>> records, List<SourceRecord> source) {
        if (records.isEmpty()) {
            return null;
        }
        return sender.send(Flux.fromIterable(records).map(r -> SenderRecord.<String, byte[], Void>create(r, null)))
                .doOnNext(result -> {
                    if (result.exception() != null) {
                        throw Exceptions.propagate(result.exception());
                    }
                })
                .then()
                .retryWhen(Retry.backoff(Long.MAX_VALUE, FIRST_BACKOFF).maxBackoff(MAX_BACKOFF)
                        .filter(Outages::isOutage)
                        .doBeforeRetry(signal -> LOG.warn("Kafka unavailable ({}); retrying batch of {} (attempt {})",
                                signal.failure().toString(), records.size(), signal.totalRetries() + 1)))
                .toFuture();
    }

    @Override
    public boolean pipelines() {
        return true;
    }

    @Override
    public void close() {
    }
}
