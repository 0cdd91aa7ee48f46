package dev.changeflow.capture.internal;

import dev.changeflow.router.subscription.Outages;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import dev.changeflow.router.subscription.NonInterrupting;
import reactor.util.retry.Retry;

/**
 * Exactly-once delivery: each batch is one Kafka transaction holding its change events and its source offsets (in the
 * offsets topic), so a batch is either entirely visible to {@code read_committed} readers, offsets included, or not at
 * all. A capture that restarts reads the committed offsets ({@link CommittedOffsetStore}) and resumes exactly after the
 * last committed batch.
 *
 * <p>The transactional id is stable per capture deployment. Creating this writer initializes transactions under it,
 * which fences every earlier producer of that id (a zombie capture that lost its lease) and aborts its open
 * transaction. Only the holder of the capture lease may do that: the writer checks {@code leaseHeld} after every
 * initialization and before its first transaction, so a capture that lost its lease meanwhile never writes.
 *
 * <p>Failures are decided here, in one place:
 * <ul>
 * <li>a commit that timed out has an unknown outcome: the commit is retried on the same producer until Kafka answers,
 *     never the batch (that could commit it twice);</li>
 * <li>fenced while still holding the lease (a zombie initialized in between): a new producer takes the id back and
 *     the batch, aborted, is written again;</li>
 * <li>fenced, or about to write, without the lease: {@link LeaseLostException}; nothing is written;</li>
 * <li>a Kafka outage: the producer is dropped (its open transaction is aborted by the next initialization) and the
 *     batch retried with backoff for as long as the outage lasts;</li>
 * <li>anything else (a record too large, a denied authorization) fails the batch.</li>
 * </ul>
 * Transactions run on one thread of their own, one at a time; the engine hands over the next batch only when the
 * previous one committed ({@link #pipelines()} is false).
 */
public final class TransactionalBatchWriter implements BatchWriter {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionalBatchWriter.class);

    private final Map<String, Object> config;
    private final SourceOffsets offsets;
    private final BooleanSupplier leaseHeld;
    /** The one thread that touches the producer; never interrupted, so no transaction is cut off mid-request. */
    private final ExecutorService executor;
    private final Scheduler thread;
    /** The producer of the current initialization, or null after a failure; touched on {@link #thread} only. */
    private Producer<String, byte[]> producer;

    private TransactionalBatchWriter(Map<String, Object> config, String engineName, String offsetsTopic,
            BooleanSupplier leaseHeld) {
        this.config = config;
        this.offsets = new SourceOffsets(engineName, offsetsTopic);
        this.leaseHeld = leaseHeld;
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "changeflow-capture-tx");
            t.setDaemon(true);
            return t;
        });
        // Cancelling a task (a timeout, a shutdown) never interrupts it.
        this.thread = NonInterrupting.of(executor);
    }

    /**
     * Initializes transactions under {@code config}'s transactional id, retrying while Kafka is unavailable, and
     * checks the lease afterwards. Blocks until done.
     *
     * @param config producer configuration including {@code transactional.id}
     * @param engineName the engine's name, the first element of its offset keys
     * @param leaseHeld whether this capture still holds its lease; asked after every initialization
     * @throws LeaseLostException if the lease was lost meanwhile; nothing was written
     */
    public static TransactionalBatchWriter open(Map<String, Object> config, String engineName, String offsetsTopic,
            BooleanSupplier leaseHeld) {
        if (!config.containsKey(ProducerConfig.TRANSACTIONAL_ID_CONFIG)) {
            throw new IllegalArgumentException("A transactional writer needs " + ProducerConfig.TRANSACTIONAL_ID_CONFIG);
        }
        TransactionalBatchWriter writer = new TransactionalBatchWriter(config, engineName, offsetsTopic, leaseHeld);
        try {
            Mono.fromRunnable(writer::ensureProducer).subscribeOn(writer.thread)
                    .retryWhen(writer.retries("initializing transactions")).block();
        } catch (RuntimeException e) {
            writer.close();
            throw e;
        }
        return writer;
    }

    /** The transactional id this writer writes under. */
    public String transactionalId() {
        return (String) config.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
    }

    @Override
    public CompletableFuture<Void> write(List<ProducerRecord<String, byte[]>> records, List<SourceRecord> source) {
        List<ProducerRecord<String, byte[]>> all = new ArrayList<>(records.size() + 1);
        all.addAll(records);
        all.addAll(offsets.of(source));
        if (all.isEmpty()) {
            return null;
        }
        return Mono.fromCallable(() -> begin(all))
                .flatMap(this::commit)
                .subscribeOn(thread)
                .retryWhen(retries("a batch of " + records.size()))
                .toFuture();
    }

    /** Begins a transaction and hands it every record; returns the producer to commit with. */
    private Producer<String, byte[]> begin(List<ProducerRecord<String, byte[]>> records) {
        ensureProducer();
        Producer<String, byte[]> p = producer;
        try {
            p.beginTransaction();
            for (ProducerRecord<String, byte[]> record : records) {
                p.send(record);
            }
            return p;
        } catch (RuntimeException e) {
            throw dropProducer(e);
        }
    }

    /** Commits; a timed-out commit is retried on the same producer, since it may have committed. */
    private Mono<Void> commit(Producer<String, byte[]> p) {
        return Mono.<Void>fromRunnable(p::commitTransaction)
                .subscribeOn(thread)
                .retryWhen(Retry.backoff(Long.MAX_VALUE, FIRST_BACKOFF).maxBackoff(MAX_BACKOFF)
                        .filter(e -> e instanceof TimeoutException)
                        .doBeforeRetry(signal -> LOG.warn("Kafka did not answer a transaction commit ({}); asking "
                                + "again (attempt {})", signal.failure().toString(), signal.totalRetries() + 1)))
                .onErrorMap(e -> !(e instanceof LeaseLostException), this::dropProducer);
    }

    /** Creates and initializes the producer if there is none, then checks the lease. On the writer's thread. */
    private void ensureProducer() {
        if (producer == null) {
            Producer<String, byte[]> created = new KafkaProducer<>(config);
            try {
                // Fences every earlier producer of this id and aborts its open transaction.
                created.initTransactions();
            } catch (RuntimeException e) {
                created.close(Duration.ZERO);
                throw e;
            }
            producer = created;
            LOG.info("Transactions initialized under {}; earlier producers of this id are fenced", transactionalId());
        }
        if (!leaseHeld.getAsBoolean()) {
            dropProducer(null);
            throw new LeaseLostException("capture lost its lease; " + transactionalId() + " writes nothing more");
        }
    }

    /** Closes the producer after a failure (its open transaction is aborted by the next initialization). */
    private RuntimeException dropProducer(Throwable error) {
        if (producer != null) {
            producer.close(Duration.ZERO);
            producer = null;
        }
        if (fenced(error)) {
            if (!leaseHeld.getAsBoolean()) {
                return new LeaseLostException("capture lost its lease and its producer " + transactionalId()
                        + " was fenced by the new capture; it writes nothing more", error);
            }
            return new FencedWhileLeasedException(error);
        }
        return error instanceof RuntimeException r ? r : new IllegalStateException(error);
    }

    /**
     * Whether {@code error} says another producer initialized our transactional id: fenced outright, or (with
     * Kafka's transaction protocol version 2) a produce request refused for its old epoch.
     */
    private static boolean fenced(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException) {
                return true;
            }
        }
        return false;
    }

    private Retry retries(String what) {
        return Retry.backoff(Long.MAX_VALUE, FIRST_BACKOFF).maxBackoff(MAX_BACKOFF)
                .filter(e -> e instanceof FencedWhileLeasedException || Outages.isOutage(e))
                .doBeforeRetry(signal -> LOG.warn("Kafka transaction for {} failed ({}); retrying (attempt {})", what,
                        signal.failure().toString(), signal.totalRetries() + 1));
    }

    @Override
    public boolean pipelines() {
        return false;
    }

    /** Closes the producer (an open transaction is aborted when the id is next initialized) and the thread. */
    @Override
    public void close() {
        Mono.fromRunnable(() -> dropProducer(null)).subscribeOn(thread).onErrorResume(e -> Mono.empty())
                .block(Duration.ofSeconds(10));
        // shutdown, not shutdownNow: a commit still running finishes (or times out) by itself, uninterrupted.
        executor.shutdown();
    }

    /** This capture lost its lease: another capture (or a slot tool) owns the slot now; it must write nothing. */
    public static final class LeaseLostException extends IllegalStateException {
        LeaseLostException(String message) {
            super(message);
        }

        LeaseLostException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Fenced by a producer of our id while this capture still holds the lease: take the id back and retry. */
    private static final class FencedWhileLeasedException extends IllegalStateException {
        FencedWhileLeasedException(Throwable cause) {
            super("fenced by another producer of the same transactional id while holding the capture lease", cause);
        }
    }
}
