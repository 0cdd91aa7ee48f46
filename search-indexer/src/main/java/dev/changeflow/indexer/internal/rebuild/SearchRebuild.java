package dev.changeflow.indexer.internal.rebuild;

import dev.changeflow.indexer.RebuildStatus;
import dev.changeflow.indexer.RebuildStatus.Phase;
import dev.changeflow.indexer.index.IndexGenerations;
import dev.changeflow.indexer.index.IndexGenerations.Generation;
import dev.changeflow.indexer.index.SearchIndex;
import dev.changeflow.indexer.internal.ChangeIndexer;
import dev.changeflow.indexer.internal.GenerationSwitch;
import dev.changeflow.indexer.internal.IndexerMetrics;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import dev.changeflow.router.StateTopics;
import dev.changeflow.router.subscription.FailureKind;
import dev.changeflow.router.subscription.Outages;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One rebuild of the search index into a new generation, inside the running indexer, while the live generation keeps
 * serving searches and live batches.
 *
 * <ol>
 *   <li>{@link #start} notes the end offsets of the change topics (C), <em>then</em> of the state topics (S), both
 *       {@code read_committed}. Capture writes a change record and its row's state record in one transaction, so every
 *       change before C has its state record before S: the state topics up to S hold every row as of C or later.</li>
 *   <li>A new generation is filled with every state record up to S through {@link ChangeIndexer}, the projects'
 *       topic first (so task documents find their project's name), exactly as live indexing writes (versions by LSN,
 *       tombstones, project names).</li>
 *   <li>It catches up from the change topics, from C to their end E1; replays are harmless, versions are LSNs.</li>
 *   <li>From then on every live batch is applied to the new generation too ({@link GenerationSwitch#mirrorTo}),
 *       once no batch that is not mirrored runs any more; then it catches up from E1 to the end E2 read after that.
 *       Every change the live generation holds was read by a batch that either was mirrored or ran before E2 was
 *       read (so lies below E2): the new generation holds it too.</li>
 *   <li>It switches: the pointer file or aliases name the new generation (durably), then searches and live batches
 *       move to it ({@link GenerationSwitch#switchTo}); the old generation is closed and deleted once nothing uses
 *       it. Finally it reads the change topics from E2 to their end once more, for what other indexer instances
 *       (OpenSearch) wrote to the old generation meanwhile.</li>
 * </ol>
 * Until the switch, searches answer from the old generation; live batches are never paused. If anything fails before
 * the switch, mirroring stops, the new generation is deleted and the old one stays current; a restart of the indexer
 * in the middle leaves the old one current too (the new one is deleted at the next start).
 *
 * <p>Thread-safe: the work runs on a thread of its own; {@link #status} and {@link #cancel} may be called anytime.
 */
public final class SearchRebuild {
    private static final Logger LOG = LoggerFactory.getLogger(SearchRebuild.class);
    /** Attempts of one batch before an outage or a broken index fails the rebuild. */
    static final int MAX_ATTEMPTS = 10;

    /**
     * What a rebuild reads and writes.
     *
     * @param bootstrap Kafka's bootstrap servers
     * @param changeTopics the change topics the indexer consumes
     * @param stateTopics the state topics, in the order to load them (projects first)
     * @param live the indexer's generation switch
     * @param batchSize events per write to the new generation
     */
    public record Spec(String bootstrap, List<String> changeTopics, List<String> stateTopics, GenerationSwitch live,
            int batchSize) {
        public Spec {
            Objects.requireNonNull(bootstrap, "bootstrap");
            changeTopics = List.copyOf(changeTopics);
            stateTopics = List.copyOf(stateTopics);
            Objects.requireNonNull(live, "live");
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be at least 1, not " + batchSize);
            }
        }
    }

    private final Spec spec;
    private final IndexGenerations generations;
    private final TopicReader reader;
    private final Map<TopicPartition, Long> changeStart;
    private final Map<TopicPartition, Long> stateBegin;
    private final Map<TopicPartition, Long> stateEnd;
    private final Instant startedAt = Instant.now();
    private final String replacing;
    private final IndexerMetrics quietMetrics = new IndexerMetrics(new SimpleMeterRegistry(), Clock.systemUTC());
    private final AtomicReference<RuntimeException> mirrorFailure = new AtomicReference<>();
    private final AtomicLong stateRecords = new AtomicLong();
    private final AtomicLong stateOffsetsDone = new AtomicLong();
    private final AtomicLong changeRecords = new AtomicLong();
    private final AtomicLong changeOffsetsDone = new AtomicLong();
    private final AtomicLong changeOffsetsTotal = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final Thread thread;
    private volatile boolean cancelled;
    private volatile Phase phase = Phase.LOADING_STATE;
    private volatile String generation;
    private volatile Instant finishedAt;
    private volatile String error;

    private SearchRebuild(Spec spec, TopicReader reader, Map<TopicPartition, Long> changeStart,
            Map<TopicPartition, Long> stateBegin, Map<TopicPartition, Long> stateEnd) {
        this.spec = spec;
        this.generations = spec.live().generations();
        this.reader = reader;
        this.changeStart = changeStart;
        this.stateBegin = stateBegin;
        this.stateEnd = stateEnd;
        this.replacing = spec.live().live().name();
        this.thread = new Thread(this::run, "changeflow-search-rebuild");
        this.thread.setDaemon(true);
    }

    /**
     * Notes the end offsets of the change topics, then of the state topics, and starts the rebuild in the background.
     * Every change committed to the change topics before this returns is in the rebuilt index.
     *
     * @throws UnsupportedOperationException if the index has no generations
     * @throws IllegalStateException if a topic does not exist (the message names it)
     * @throws RuntimeException if Kafka does not answer ({@link TopicReader#KAFKA_TIMEOUT})
     */
    public static SearchRebuild start(Spec spec) {
        if (!spec.live().generations().supportsRebuild()) {
            throw new UnsupportedOperationException("this indexer's index (" + spec.live().describe()
                    + ") has no generations: it cannot be rebuilt in place");
        }
        TopicReader reader = new TopicReader(spec.bootstrap(), spec.batchSize());
        try {
            // The change topics first: see the class comment.
            Map<TopicPartition, Long> changeStart = reader.endOffsets(spec.changeTopics());
            Map<TopicPartition, Long> stateEnd;
            Map<TopicPartition, Long> stateBegin;
            try {
                stateEnd = reader.endOffsets(spec.stateTopics());
                stateBegin = reader.beginningOffsets(spec.stateTopics());
            } catch (IllegalStateException e) {
                throw new IllegalStateException("cannot rebuild from the state topics " + spec.stateTopics() + ": "
                        + e.getMessage() + " (capture writes them; see changeflow.router.state-topics)", e);
            }
            SearchRebuild rebuild = new SearchRebuild(spec, reader, changeStart, stateBegin, stateEnd);
            LOG.info("Search rebuild started: {} replaces {}, from the state topics {} up to {} records and the "
                    + "change topics {} from offsets {}", "a new generation", rebuild.replacing, spec.stateTopics(),
                    total(stateBegin, stateEnd), spec.changeTopics(), changeStart);
            rebuild.thread.start();
            return rebuild;
        } catch (RuntimeException e) {
            reader.close();
            throw e;
        }
    }

    /** A snapshot of where it stands. */
    public RebuildStatus status() {
        return new RebuildStatus(phase, generation, replacing, stateRecords.get(), stateOffsetsDone.get(),
                total(stateBegin, stateEnd), changeRecords.get(), changeOffsetsDone.get(), changeOffsetsTotal.get(),
                skipped.get(), startedAt, finishedAt, error);
    }

    /** Whether it has ended (done, failed or cancelled). */
    public boolean finished() {
        return phase.finished();
    }

    /**
     * Asks it to stop at the next batch (the indexer is closing) and waits up to {@code timeout} for it to undo what
     * it did. A rebuild past its switch finishes instead. Never interrupts its thread: Lucene does not survive that.
     */
    public void cancel(Duration timeout) {
        cancelled = true;
        try {
            thread.join(Math.max(1, timeout.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        GenerationSwitch live = spec.live();
        Generation next = null;
        boolean mirroring = false;
        boolean switched = false;
        try {
            next = generations.create();
            generation = next.name();
            ChangeIndexer indexer = new ChangeIndexer(next.index(), quietMetrics);
            SearchIndex index = next.index();

            for (String topic : spec.stateTopics()) {
                long doneBefore = stateOffsetsDone.get();
                reader.read(only(stateBegin, topic), only(stateEnd, topic), spec.batchSize(),
                        SearchRebuild::stateEvent, batch -> {
                            write(indexer, index, batch);
                            stateRecords.addAndGet(batch.size());
                        }, done -> stateOffsetsDone.set(doneBefore + done), skipped::addAndGet, this::stopping);
                stateOffsetsDone.set(doneBefore + total(only(stateBegin, topic), only(stateEnd, topic)));
            }

            phase = Phase.CATCHING_UP;
            Map<TopicPartition, Long> caughtUp = catchUp(indexer, index, changeStart);
            live.mirrorTo(next, this::mirrorFailed);
            mirroring = true;
            caughtUp = catchUp(indexer, index, caughtUp);
            checkMirror();

            phase = Phase.SWITCHING;
            if (stopping()) {
                throw new CancellationException("the rebuild was cancelled");
            }
            Generation old = live.live();
            generations.promote(old, next);
            switched = true;
            live.switchTo(next);
            mirroring = false;
            generations.delete(old);
            LOG.info("Search rebuild switched: {} is current, {} deleted", next.name(), old.name());
            try {
                catchUp(new ChangeIndexer(next.index(), quietMetrics), next.index(), caughtUp);
            } catch (RuntimeException e) {
                // Only other instances' writes to the old generation are at stake here, and they replay on restart.
                LOG.warn("Search rebuild: the last catch-up after the switch failed (harmless with one indexer "
                        + "instance): {}", e.toString());
            }
            finish(Phase.DONE, null);
        } catch (Throwable e) {
            boolean cancel = e instanceof CancellationException;
            if (!switched) {
                undo(next, mirroring);
            }
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.warn("Search rebuild {}: {}{}", cancel ? "cancelled" : "failed", message(e),
                    switched ? "" : "; " + replacing + " stays current");
            finish(cancel ? Phase.CANCELLED : Phase.FAILED, switched ? "switched to " + generation
                    + ", then: " + message(e) : message(e));
        } finally {
            reader.close();
        }
    }

    private void undo(Generation next, boolean mirroring) {
        try {
            if (mirroring) {
                spec.live().stopMirroring();
            }
            if (next != null) {
                generations.delete(next);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.warn("Search rebuild: could not delete the abandoned generation {} (the next start does): {}",
                    generation, e.toString());
        }
    }

    private void finish(Phase end, String failure) {
        error = failure;
        finishedAt = Instant.now();
        phase = end;
    }

    /** Reads the change topics from {@code from} to their end now; returns that end. */
    private Map<TopicPartition, Long> catchUp(ChangeIndexer indexer, SearchIndex index,
            Map<TopicPartition, Long> from) {
        Map<TopicPartition, Long> end = reader.endOffsets(spec.changeTopics());
        // A partition added since the start is read from its beginning.
        Map<TopicPartition, Long> start = new java.util.HashMap<>(from);
        end.keySet().forEach(p -> start.putIfAbsent(p, 0L));
        from = start;
        changeOffsetsDone.set(0);
        changeOffsetsTotal.set(total(from, end));
        reader.read(from, end, spec.batchSize(), SearchRebuild::changeEvent, batch -> {
            write(indexer, index, batch);
            changeRecords.addAndGet(batch.size());
            checkMirror();
        }, changeOffsetsDone::set, skipped::addAndGet, this::stopping);
        changeOffsetsDone.set(changeOffsetsTotal.get());
        return end;
    }

    /**
     * Writes a batch, retrying an outage or a broken index ({@link #MAX_ATTEMPTS} attempts); a batch the engine
     * refuses is written event by event, and an event it refuses is skipped and counted (the live indexer would
     * dead-letter it).
     */
    private void write(ChangeIndexer indexer, SearchIndex index, List<ChangeEvent> batch) {
        for (int attempt = 1; ; attempt++) {
            if (stopping()) {
                throw new CancellationException("the rebuild was cancelled");
            }
            try {
                indexer.apply(batch);
                return;
            } catch (RuntimeException e) {
                FailureKind kind = Outages.isOutage(e) ? FailureKind.OUTAGE : index.classify(e);
                if (kind == FailureKind.FAULT) {
                    if (batch.size() > 1) {
                        batch.forEach(event -> write(indexer, index, List.of(event)));
                    } else {
                        skipped.incrementAndGet();
                        LOG.warn("Search rebuild skips {} {}: {}", batch.get(0).table(), batch.get(0).key(),
                                e.toString());
                    }
                    return;
                }
                if (attempt >= MAX_ATTEMPTS) {
                    throw e;
                }
                if (kind == FailureKind.BROKEN) {
                    index.reopen();
                }
                pause(Duration.ofMillis(Math.min(5_000, 100L << Math.min(attempt, 6))));
            }
        }
    }

    private void mirrorFailed(RuntimeException e) {
        mirrorFailure.compareAndSet(null, e);
    }

    private void checkMirror() {
        RuntimeException failure = mirrorFailure.get();
        if (failure != null) {
            throw new IllegalStateException("a live batch could not be written to the new generation: "
                    + message(failure), failure);
        }
    }

    private boolean stopping() {
        return cancelled;
    }

    private void pause(Duration duration) {
        long deadline = System.nanoTime() + duration.toNanos();
        try {
            while (!cancelled && System.nanoTime() < deadline) {
                Thread.sleep(Math.max(1, Math.min(100, (deadline - System.nanoTime()) / 1_000_000)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted");
        }
    }

    /** A state record's event: its value, or for a tombstone the delete event in its header. */
    private static ChangeEvent stateEvent(ConsumerRecord<String, byte[]> record) {
        Header header = record.headers().lastHeader(StateTopics.DELETE_EVENT_HEADER);
        return StateTopics.eventOf(record.value(), header == null ? null : header.value());
    }

    private static ChangeEvent changeEvent(ConsumerRecord<String, byte[]> record) {
        return ChangeEventCodec.decode(record.value());
    }

    private static Map<TopicPartition, Long> only(Map<TopicPartition, Long> offsets, String topic) {
        Map<TopicPartition, Long> out = new java.util.HashMap<>();
        offsets.forEach((p, o) -> {
            if (p.topic().equals(topic)) {
                out.put(p, o);
            }
        });
        return out;
    }

    private static long total(Map<TopicPartition, Long> from, Map<TopicPartition, Long> to) {
        long total = 0;
        for (Map.Entry<TopicPartition, Long> e : to.entrySet()) {
            total += Math.max(0, e.getValue() - from.getOrDefault(e.getKey(), e.getValue()));
        }
        return total;
    }

    private static String message(Throwable e) {
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
