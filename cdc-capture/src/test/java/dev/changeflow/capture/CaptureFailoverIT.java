package dev.changeflow.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.internal.CaptureLease;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Two capture processes of one deployment (same slot, same transactional id), as an operator runs them for failover,
 * while an application keeps writing. Only the holder of the capture lease streams and writes to Kafka; the other
 * waits as a standby and takes over when the active one dies.
 */
class CaptureFailoverIT {
    private static final String TRANSACTIONS_INITIALIZED = "Transactions initialized under";
    private static final String STANDING_BY = "Standing by: waiting for the capture lease";
    private static final String HOLDING = "Holding the capture lease";

    @Test
    void whenTheActiveCaptureIsKilledTheStandbyTakesOverWithinThirtySecondsLosingAndRepeatingNothing()
            throws Exception {
        Path logs = Files.createDirectories(Path.of("target", "capture-failover-logs", "sigkill"));
        try (CaptureHarness h = new CaptureHarness(); Connection connection = h.sql();
                ContinuousWrites writes = new ContinuousWrites(connection, "failover");
                CaptureProcess active = CaptureProcess.startStreaming(h, logs.resolve("active.log"));
                CaptureProcess standby = CaptureProcess.start(h, logs.resolve("standby.log"))) {
            streamWithAStandby(h, writes, standby);

            assertThat(leaseSessions(h)).as("one capture holds the lease, the other waits")
                    .containsExactlyInAnyOrder(CaptureLease.activeName(h.id), CaptureLease.standbyName(h.id));
            assertThat(standby.occurrences(TRANSACTIONS_INITIALIZED)).as("the standby never wrote to Kafka").isZero();
            assertThat(standby.occurrences(HOLDING)).isZero();

            Set<String> beforeKill = writes.committed();
            long killedAt = System.nanoTime();
            active.kill();
            h.awaitEvents(events -> !beforeKill.containsAll(ContinuousWrites.seen(events)), Duration.ofSeconds(60));
            Duration takeover = Duration.ofNanos(System.nanoTime() - killedAt);
            System.out.println("Takeover after SIGKILL: a change committed after the kill was published "
                    + takeover.toMillis() + " ms after it");
            assertThat(takeover).as("from SIGKILL to the first change published by the standby")
                    .isLessThan(Duration.ofSeconds(30));
            assertThat(standby.occurrences(HOLDING)).isEqualTo(1);

            writes.stop();
            assertExactlyOnce(h, writes.committed());
        }
    }

    @Test
    void aCaptureThatWakesAfterATakeoverIsFencedAndWritesNothing() throws Exception {
        Path logs = Files.createDirectories(Path.of("target", "capture-failover-logs", "zombie"));
        try (CaptureHarness h = new CaptureHarness(); Connection connection = h.sql();
                ContinuousWrites writes = new ContinuousWrites(connection, "zombie");
                CaptureProcess zombie = CaptureProcess.startStreaming(h, logs.resolve("zombie.log"));
                CaptureProcess standby = CaptureProcess.start(h, logs.resolve("standby.log"))) {
            streamWithAStandby(h, writes, standby);

            // The active capture freezes mid-stream (a long GC pause, a suspended VM) and Postgres loses sight of it:
            // its lease session ends. Its replication connection stays, as it would until wal_sender_timeout.
            zombie.signal("STOP");
            try (Statement s = connection.createStatement()) {
                s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '"
                        + CaptureLease.activeName(h.id) + "'");
            }
            standby.awaitLog(HOLDING, 1, Duration.ofSeconds(30));
            Set<String> beforeTakeover = writes.committed();
            h.awaitEvents(events -> !beforeTakeover.containsAll(ContinuousWrites.seen(events)), Duration.ofSeconds(60));
            assertThat(standby.log()).as("the new active capture ended the frozen one's replication connection")
                    .contains("was still streamed by process");

            zombie.signal("CONT");
            zombie.awaitLog(STANDING_BY, 1, Duration.ofSeconds(60));
            String woke = zombie.log();
            assertThat(woke).as("the woken capture noticed it lost the lease, or was fenced at its next commit")
                    .containsAnyOf("Lost the capture lease", "lost its lease");
            assertThat(zombie.occurrences(TRANSACTIONS_INITIALIZED))
                    .as("it never took the transactional id back (that would fence the active capture)").isEqualTo(1);
            assertThat(leaseSessions(h)).containsExactlyInAnyOrder(CaptureLease.activeName(h.id),
                    CaptureLease.standbyName(h.id));

            h.awaitMore(300, Duration.ofSeconds(60));
            writes.stop();
            assertExactlyOnce(h, writes.committed());
        }
    }

    /** Starts writing and waits until the active capture streams them and the other one stands by. */
    private static void streamWithAStandby(CaptureHarness h, ContinuousWrites writes, CaptureProcess standby)
            throws Exception {
        writes.start();
        CaptureCrashIT.awaitOffsetsStored(h);
        standby.awaitLog(STANDING_BY, 1, Duration.ofSeconds(60));
        h.awaitMore(300, Duration.ofSeconds(60));
    }

    /** Every committed change arrives, each eventId once, for a read_committed consumer. */
    private static void assertExactlyOnce(CaptureHarness h, Set<String> committed) {
        ContinuousWrites.assertEachEventOnce(ContinuousWrites.awaitAllDelivered(h, committed, Duration.ofSeconds(90)));
    }

    /** The application names of the capture sessions of {@code h}'s slot (holding or waiting for its lease). */
    private static List<String> leaseSessions(CaptureHarness h) throws Exception {
        await("lease sessions settled").atMost(Duration.ofSeconds(10)).until(() -> sessions(h).size() == 2);
        return sessions(h);
    }

    private static List<String> sessions(CaptureHarness h) throws Exception {
        try (Connection c = h.sql(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT application_name FROM pg_stat_activity WHERE application_name IN ('"
                        + CaptureLease.activeName(h.id) + "', '" + CaptureLease.standbyName(h.id) + "')")) {
            List<String> names = new java.util.ArrayList<>();
            while (rs.next()) {
                names.add(rs.getString(1));
            }
            return names;
        }
    }
}
