package dev.changeflow.capture.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.internal.BackfillPacer.State;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BackfillPacerTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final List<String> written = new CopyOnWriteArrayList<>();
    private final AtomicBoolean postgresDown = new AtomicBoolean();
    private final ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1);
    /** 1,000 rows per second: a row every millisecond. */
    private final BackfillPacer pacer = new BackfillPacer(1_000, (id, type) -> {
        if (postgresDown.get()) {
            throw new SQLException("Connection refused");
        }
        written.add(type);
    }, now::get, executor, new io.micrometer.core.instrument.simple.SimpleMeterRegistry());

    @AfterEach
    void close() {
        pacer.close();
    }

    @Test
    void rowsWithinTheRateAreNeverPaused() {
        for (int i = 0; i < 50; i++) {
            pacer.rowsRead(10);
            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(10));
        }
        assertThat(pacer.state()).isEqualTo(State.RUNNING);
        assertThat(pacer.pauses()).isZero();
    }

    @Test
    void rowsAheadOfTheScheduleWriteAPauseSignal() throws Exception {
        pacer.rowsRead(500);
        drain();
        assertThat(written).containsExactly(BackfillPacer.PAUSE);
        assertThat(pacer.state()).isEqualTo(State.PAUSE_SENT);
        pacer.rowsRead(500);
        drain();
        assertThat(written).as("one pause per cycle").hasSize(1);
    }

    @Test
    void theBackfillCountsAsPausedOnlyAfterAWindowClosedBehindThePauseRecord() throws Exception {
        pacer.rowsRead(500);
        drain();
        pacer.windowClosed();
        assertThat(pacer.state()).as("a window closed before the pause was processed").isEqualTo(State.PAUSE_SENT);
        pacer.signal(BackfillPacer.PAUSE);
        assertThat(pacer.state()).isEqualTo(State.PAUSING);
        pacer.windowClosed();
        assertThat(pacer.state()).isEqualTo(State.PAUSED);
    }

    @Test
    void aPausedBackfillIsResumedWhenTheScheduleCatchesUp() throws Exception {
        pauseAfter(500);
        drain();
        assertThat(written).containsExactly(BackfillPacer.PAUSE);
        // 500 rows at 1,000 per second are due within half a second: the resume is scheduled for then.
        long delay = executor.getQueue().stream().mapToLong(t -> ((java.util.concurrent.ScheduledFuture<?>) t)
                .getDelay(TimeUnit.MILLISECONDS)).max().orElseThrow();
        assertThat(delay).isBetween(300L, 500L);
        awaitWritten(2, 2_000);
        assertThat(written).containsExactly(BackfillPacer.PAUSE, BackfillPacer.RESUME);
        assertThat(pacer.state()).isEqualTo(State.RESUME_SENT);
        pacer.signal(BackfillPacer.RESUME);
        assertThat(pacer.state()).isEqualTo(State.RUNNING);
    }

    @Test
    void aStopRequestedWhilePausedResumesAtOnceSoDebeziumSeesIt() throws Exception {
        pauseAfter(100_000);
        pacer.signal("stop-snapshot");
        awaitWritten(2, 2_000);
        assertThat(written).containsExactly(BackfillPacer.PAUSE, BackfillPacer.RESUME);
    }

    @Test
    void aResumeThatCannotBeWrittenIsRetriedUntilPostgresIsBack() throws Exception {
        pacer.rowsRead(150);
        drain();
        pacer.signal(BackfillPacer.PAUSE);
        postgresDown.set(true);
        pacer.windowClosed();
        await("no resume while Postgres is down").during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                .until(() -> written.equals(List.of(BackfillPacer.PAUSE)));
        postgresDown.set(false);
        awaitWritten(2, 3_000);
        assertThat(written).containsExactly(BackfillPacer.PAUSE, BackfillPacer.RESUME);
    }

    @Test
    void aPauseThatCannotBeWrittenLeavesTheBackfillRunning() throws Exception {
        postgresDown.set(true);
        pacer.rowsRead(500);
        drain();
        assertThat(pacer.state()).isEqualTo(State.RUNNING);
    }

    @Test
    void aBackfillThatEndsBeforeItsPauseIsProcessedLeavesTheNextOneRunning() throws Exception {
        pacer.rowsRead(500);
        drain();
        pacer.signal(BackfillPacer.PAUSE);
        pacer.finished();
        assertThat(pacer.state()).isEqualTo(State.RUNNING);
        now.addAndGet(TimeUnit.SECONDS.toNanos(10));
        pacer.rowsRead(50);
        drain();
        assertThat(written).as("a new backfill starts a new schedule").containsExactly(BackfillPacer.PAUSE);
    }

    /** Publishes {@code rows} rows at once, then the pause record and a window's close: the backfill is paused. */
    private void pauseAfter(int rows) throws Exception {
        pacer.rowsRead(rows);
        drain();
        pacer.signal(BackfillPacer.PAUSE);
        pacer.windowClosed();
        assertThat(pacer.state()).isEqualTo(State.PAUSED);
    }

    /** Waits until the pacer's thread has run what was handed to it so far. */
    private void drain() throws Exception {
        executor.submit(() -> { }).get(5, TimeUnit.SECONDS);
    }

    private void awaitWritten(int count, long millis) {
        await(count + " signals written").atMost(Duration.ofMillis(millis)).pollInterval(Duration.ofMillis(10))
                .until(() -> written.size() >= count);
    }
}
