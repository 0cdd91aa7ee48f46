package dev.changeflow.capture.internal;

import dev.changeflow.db.PostgresEndpoint;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds backfills to at most a set number of rows per second, so that streaming keeps its latency while one runs
 * ({@code changeflow.capture.snapshot-max-rows-per-second}).
 *
 * <p>Debezium reads an incremental snapshot's next chunk as soon as the previous window closes, on the thread that
 * streams the WAL, so a backfill otherwise takes all the CPU capture and the machine have, and streamed changes queue
 * behind its chunks. The one way to leave a gap between chunks while streaming goes on is Debezium's own
 * {@code pause-snapshot} and {@code resume-snapshot} signals, written to the signal table and so processed in WAL
 * order on the streaming thread. The pacer follows the published records (in WAL order, through
 * {@link BackfillProgress}) and:
 * <ul>
 *   <li>keeps a schedule: each row read is due {@code 1 / rate} seconds after the previous one;</li>
 *   <li>when the rows published run more than {@link #AHEAD} ahead of it, it writes a pause signal;</li>
 *   <li>it counts the backfill paused only once a window closed after the pause record (Debezium, paused, reads no
 *       chunk when it closes the window open at the pause), so it never resumes while a window is open: a resume
 *       then would start a second chunk inside the first;</li>
 *   <li>once paused, it writes a resume signal when the schedule catches up, or at once when a stop is requested
 *       (Debezium looks at a stop request only when it reads a chunk).</li>
 * </ul>
 * A pause lives in Debezium's memory only, so a capture that restarts (or a standby that takes over) resumes the
 * backfill at once; the new pacer starts a new schedule. A resume that cannot be written (Postgres unreachable) is
 * retried every second, so a backfill never stays paused behind a failed resume for longer than that; a pause that
 * cannot be written leaves the backfill running, to be paused again at the next rows ahead of the schedule.
 *
 * <p>{@link #rowsRead}, {@link #windowClosed}, {@link #signal} and {@link #finished} are called by the engine's
 * thread; the signals are written by the pacer's own thread. Both hold the pacer's lock.
 */
public final class BackfillPacer implements AutoCloseable {
    /** How far the published rows may run ahead of the schedule before the pacer pauses the backfill. */
    static final Duration AHEAD = Duration.ofMillis(100);
    /** Counts the pauses. */
    public static final String PAUSES = "changeflow.capture.backfill.pauses";
    static final String PAUSE = "pause-snapshot";
    static final String RESUME = "resume-snapshot";
    private static final Logger LOG = LoggerFactory.getLogger(BackfillPacer.class);
    private static final Duration RETRY = Duration.ofSeconds(1);

    /** Where the pacer is in a pause cycle. */
    enum State {
        /** Chunks are read as fast as Debezium goes. */
        RUNNING,
        /** A pause signal is written or being written, and not yet seen in the stream. */
        PAUSE_SENT,
        /** The pause record was seen; the window open at that point is still open. */
        PAUSING,
        /** A window closed after the pause: Debezium reads no chunk until it is resumed. */
        PAUSED,
        /** A resume signal is written or being written, and not yet seen in the stream. */
        RESUME_SENT
    }

    /** Writes one signal row; {@link #of} writes to the signal table. */
    @FunctionalInterface
    interface SignalWriter {
        void write(String id, String type) throws SQLException;
    }

    private final long nanosPerRow;
    private final SignalWriter writer;
    private final LongSupplier clock;
    private final ScheduledExecutorService executor;
    private final Counter pauses;
    private State state = State.RUNNING;
    /** When the next row read is due, in {@link #clock} nanos; 0 before the first row of a backfill. */
    private long due;
    private ScheduledFuture<?> resume;

    BackfillPacer(int maxRowsPerSecond, SignalWriter writer, LongSupplier clock,
            ScheduledExecutorService executor, MeterRegistry registry) {
        if (maxRowsPerSecond <= 0) {
            throw new IllegalArgumentException("maxRowsPerSecond must be positive: " + maxRowsPerSecond);
        }
        this.nanosPerRow = TimeUnit.SECONDS.toNanos(1) / maxRowsPerSecond;
        this.writer = writer;
        this.clock = clock;
        this.executor = executor;
        this.pauses = Counter.builder(PAUSES).description("Pauses of backfills by the pacer (between chunks)")
                .register(registry);
    }

    /**
     * A pacer writing to {@code signalTable} through connections to {@code postgres}, or null when
     * {@code maxRowsPerSecond} is 0 (no limit). Close it with capture's engine.
     */
    public static BackfillPacer of(int maxRowsPerSecond, PostgresEndpoint postgres, String signalTable,
            MeterRegistry registry) {
        if (maxRowsPerSecond == 0) {
            return null;
        }
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "changeflow-capture-pacer");
            t.setDaemon(true);
            return t;
        });
        return new BackfillPacer(maxRowsPerSecond, (id, type) -> {
            try (Connection c = postgres.connect()) {
                SignalTable.insert(c, signalTable, id, type, null);
            }
        }, System::nanoTime, executor, registry);
    }

    /** {@code n} rows of a backfill were published. */
    synchronized void rowsRead(int n) {
        long now = clock.getAsLong();
        // A schedule never lags the clock: rows not read while nothing was asked of the backfill are not owed.
        due = Math.max(due == 0 ? now : due, now - AHEAD.toNanos()) + n * nanosPerRow;
        if (state == State.RUNNING && due - now > AHEAD.toNanos()) {
            state = State.PAUSE_SENT;
            pauses.increment();
            executor.execute(() -> send(PAUSE));
        }
    }

    /** A window of the backfill closed (its opening watermark was deleted). */
    synchronized void windowClosed() {
        if (state == State.PAUSING) {
            state = State.PAUSED;
            scheduleResume(Math.max(0, due - clock.getAsLong() - AHEAD.toNanos()));
        }
    }

    /** A signal row of type {@code type} was published. */
    synchronized void signal(String type) {
        if (PAUSE.equals(type) && state == State.PAUSE_SENT) {
            state = State.PAUSING;
        } else if (RESUME.equals(type) && state == State.RESUME_SENT) {
            state = State.RUNNING;
        } else if ("stop-snapshot".equals(type) && state == State.PAUSED) {
            // Debezium processes a stop when it reads the next chunk: resume now so the stop takes effect.
            scheduleResume(0);
        }
    }

    /** The backfill ended (or capture saw no more of it): a new one starts a new schedule. */
    synchronized void finished() {
        due = 0;
        if (state == State.PAUSE_SENT || state == State.PAUSING) {
            // A pause that arrives after the last chunk is ignored by Debezium (no snapshot is running).
            state = State.RUNNING;
        }
    }

    /** How many times the pacer paused a backfill. */
    long pauses() {
        return (long) pauses.count();
    }

    synchronized State state() {
        return state;
    }

    private void scheduleResume(long delayNanos) {
        if (resume != null) {
            resume.cancel(false);
        }
        resume = executor.schedule(() -> {
            synchronized (this) {
                if (state != State.PAUSED) {
                    return;
                }
                state = State.RESUME_SENT;
            }
            send(RESUME);
        }, delayNanos, TimeUnit.NANOSECONDS);
    }

    /** Writes a signal on the pacer's thread; a failure is retried after {@link #RETRY}. */
    private void send(String type) {
        try {
            writer.write("changeflow-pace-" + UUID.randomUUID(), type);
        } catch (SQLException | RuntimeException e) {
            LOG.warn("Could not write the {} signal of the backfill pacer ({}); trying again in {} s", type,
                    e.getMessage(), RETRY.toSeconds());
            synchronized (this) {
                if (PAUSE.equals(type)) {
                    // Not paused: go on at full speed and pause again at the next rows ahead of the schedule.
                    state = State.RUNNING;
                    return;
                }
            }
            executor.schedule(() -> send(type), RETRY.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
