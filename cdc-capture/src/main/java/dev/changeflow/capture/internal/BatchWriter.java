package dev.changeflow.capture.internal;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * How the publisher's batches reach Kafka, chosen by the delivery setting: {@link AcknowledgedBatchWriter} (at least
 * once: the change events are sent and acknowledged, the engine writes the offsets later) or
 * {@link TransactionalBatchWriter} (exactly once: the change events and the batch's offsets in one transaction).
 */
public interface BatchWriter extends AutoCloseable {
    /** First and longest wait between attempts while Kafka is unavailable. */
    Duration FIRST_BACKOFF = Duration.ofMillis(200);
    Duration MAX_BACKOFF = Duration.ofSeconds(10);

    /**
     * Starts writing one batch. Called by the engine's thread only, one batch at a time.
     *
     * @param records the batch's change events, in order
     * @param source every record of the batch as the engine delivered it (heartbeats too), for its offsets
     * @return completes when the batch is durable in Kafka, exceptionally if it never will be; null when there is
     *     nothing to wait for
     */
    CompletableFuture<Void> write(List<ProducerRecord<String, byte[]>> records, List<SourceRecord> source);

    /**
     * Whether the next batch may be handed over before the previous one is durable (true when the producer keeps the
     * order across batches by itself; false when each batch is a transaction of its own).
     */
    boolean pipelines();

    /** Releases the producer, if this writer owns one. */
    @Override
    void close();
}
