package dev.changeflow.capture.internal;

import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.RoutedChange;
import dev.changeflow.router.TopicRouter;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RetriableException;
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
 */
public final class KafkaBatchPublisher implements DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaBatchPublisher.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

    private final KafkaSender<String, byte[]> sender;
    private final RecordConverter converter;
    private final TopicRouter router;
    private final CaptureMetrics metrics;

    public KafkaBatchPublisher(KafkaSender<String, byte[]> sender, RecordConverter converter, TopicRouter router,
            CaptureMetrics metrics) {
        this.sender = sender;
        this.converter = converter;
        this.router = router;
        this.metrics = metrics;
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
        long start = System.nanoTime();
        if (!outgoing.isEmpty()) {
            publish(outgoing);
            events.forEach(metrics::captured);
        }
        metrics.published(outgoing.size(), System.nanoTime() - start,
                events.isEmpty() ? null : events.get(events.size() - 1));
        for (RecordChangeEvent<SourceRecord> record : records) {
            committer.markProcessed(record);
        }
        committer.markBatchFinished();
    }

    private void publish(List<SenderRecord<String, byte[], Void>> outgoing) throws InterruptedException {
        try {
            sender.send(Flux.fromIterable(outgoing))
                    .doOnNext(result -> {
                        if (result.exception() != null) {
                            throw reactor.core.Exceptions.propagate(result.exception());
                        }
                    })
                    .then()
                    .retryWhen(Retry.backoff(Long.MAX_VALUE, FIRST_BACKOFF).maxBackoff(MAX_BACKOFF)
                            .filter(KafkaBatchPublisher::isOutage)
                            .doBeforeRetry(signal -> LOG.warn("Kafka unavailable ({}); retrying batch of {} (attempt {})",
                                    signal.failure().toString(), outgoing.size(), signal.totalRetries() + 1)))
                    .block();
        } catch (RuntimeException e) {
            if (Thread.currentThread().isInterrupted() || e.getCause() instanceof InterruptedException) {
                throw new InterruptedException("Interrupted while publishing");
            }
            throw e;
        }
    }

    /** Kafka being unreachable or briefly short of replicas: worth waiting out. Anything else is permanent. */
    static boolean isOutage(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof RetriableException || t instanceof org.apache.kafka.common.errors.TimeoutException) {
                return true;
            }
        }
        return false;
    }

    private static ProducerRecord<String, byte[]> toProducerRecord(RoutedChange change) {
        RecordHeaders headers = new RecordHeaders();
        change.headers().forEach((k, v) -> headers.add(k, v.getBytes(StandardCharsets.UTF_8)));
        return new ProducerRecord<>(change.topic(), null, change.key(), change.value(), headers);
    }
}
