package dev.changeflow.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.CaptureHarness.Received;
import dev.changeflow.capture.testing.MainProcess;
import dev.changeflow.router.ChangeEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Capture as a separate process, killed with SIGKILL mid-stream and restarted, while an application keeps writing. */
class CaptureCrashIT {

    @Test
    void afterFiveSigkillsUnderWritesAReadCommittedConsumerSeesEveryChangeExactlyOnce() throws Exception {
        try (CaptureHarness h = new CaptureHarness()) {
            List<Received> received = crashRepeatedly(h, 5, "exactly-once");

            ContinuousWrites.assertEachEventOnce(received);
        }
    }

    @Test
    void inAtLeastOnceModeEveryCommittedChangeIsPresentAndDuplicatesAreRedeliveries() throws Exception {
        try (CaptureHarness h = new CaptureHarness().with("CHANGEFLOW_CAPTURE_DELIVERY", "at_least_once")) {
            List<Received> received = crashRepeatedly(h, 2, "at-least-once");

            Map<String, List<ChangeEvent>> byEventId = received.stream().map(Received::event)
                    .collect(Collectors.groupingBy(ChangeEvent::eventId));
            // A row read again by the snapshot after a crash is the same event, read at another time: its
            // source.commitTs (for a read, when it was read) may differ.
            // A row read twice at the same version (its position was not saved before the crash) may have changed
            // in between: the change that did it is then streamed with a higher LSN (docs/change-event.md).
            List<ChangeEvent> all = received.stream().map(Received::event).toList();
            assertThat(byEventId.values()).as("every duplicate is a redelivery of the same event")
                    .allSatisfy(copies -> {
                        Set<ChangeEvent> distinct = Set.copyOf(copies.stream().map(CaptureCrashIT::withoutReadTime)
                                .toList());
                        if (distinct.size() > 1) {
                            ChangeEvent read = copies.get(0);
                            assertThat(read.op()).isEqualTo(dev.changeflow.router.Op.READ);
                            assertThat(distinct).allSatisfy(copy -> assertThat(copy.after().equals(read.after())
                                    || all.stream().anyMatch(e -> e.op() == dev.changeflow.router.Op.UPDATE
                                            && e.key().equals(copy.key()) && e.after().equals(copy.after())
                                            && Long.compareUnsigned(e.source().lsn(), copy.source().lsn()) > 0))
                                    .as("a differing re-read is the state of a newer streamed change").isTrue());
                        }
                    });
        }
    }

    /** {@code event}, with the read time of a snapshot row taken out. */
    private static ChangeEvent withoutReadTime(ChangeEvent event) {
        return event.op() != dev.changeflow.router.Op.READ ? event : new ChangeEvent(event.schemaVersion(),
                event.eventId(), event.op(), event.table(), event.key(), event.before(), event.after(),
                new dev.changeflow.router.Source(event.source().lsn(), event.source().txId(), java.time.Instant.EPOCH,
                        true));
    }

    /**
     * Writes continuously while capture runs as a process and is killed with SIGKILL {@code kills} times mid-stream
     * (each time restarted), then lets a last capture catch up; asserts that every committed write arrived and that
     * the last capture stops cleanly on SIGTERM.
     *
     * @return everything a read_committed consumer received
     */
    private static List<Received> crashRepeatedly(CaptureHarness h, int kills, String name) throws Exception {
        Path logs = Files.createDirectories(Path.of("target", "capture-crash-logs", name));
        List<CaptureProcess> processes = new ArrayList<>();
        try (Connection connection = h.sql(); ContinuousWrites writes = new ContinuousWrites(connection, "crash")) {
            for (int round = 0; round < kills; round++) {
                CaptureProcess capture = CaptureProcess.startStreaming(h, logs.resolve("capture-" + round + ".log"));
                processes.add(capture);
                if (round == 0) {
                    // Writes start once the slot exists: what is committed before it is only in the snapshot.
                    writes.start();
                    // The first stored offset records that the snapshot is done, so no restart redoes it.
                    awaitOffsetsStored(h);
                }
                h.awaitMore(300, Duration.ofSeconds(90)); // streaming, mid-flow
                capture.kill();
            }
            CaptureProcess last = CaptureProcess.startStreaming(h, logs.resolve("capture-final.log"));
            processes.add(last);
            writes.stop();
            Set<String> committed = writes.committed();

            List<Received> received = ContinuousWrites.awaitAllDelivered(h, committed, Duration.ofMinutes(2));
            assertThat(committed).hasSizeGreaterThan(300 * kills);

            assertThat(last.terminate()).as("JVM exit status after SIGTERM").isEqualTo(143);
            return received;
        } finally {
            processes.forEach(CaptureProcess::close);
        }
    }

    /** Waits until capture stored its first offset (its snapshot is then complete). */
    static void awaitOffsetsStored(CaptureHarness h) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", h.kafka.bootstrapServers()))) {
            TopicPartition offsets = new TopicPartition(h.id + ".offsets", 0);
            await("capture's first offset stored in " + offsets).atMost(Duration.ofSeconds(60)).until(() ->
                    admin.listOffsets(Map.of(offsets, OffsetSpec.latest())).all().get().get(offsets).offset() > 0);
        }
    }

    @Test
    void aBadSettingMakesTheProcessExitWithOneLineNamingIt(@TempDir Path logs) throws Exception {
        Path log = logs.resolve("bad.log");
        Process process = MainProcess.start(CaptureMain.class, Map.of(
                "CHANGEFLOW_POSTGRES_URL", "jdbc:postgresql://localhost/app",
                "CHANGEFLOW_KAFKA_BOOTSTRAP", "localhost:9092",
                "CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "sometimes"), log, null);

        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(Files.readAllLines(log)).containsExactly("changeflow capture: "
                + "CHANGEFLOW_CAPTURE_SNAPSHOT_MODE=sometimes (changeflow.capture.snapshot-mode): invalid value; "
                + "allowed: one of incremental, initial, no_data");
    }
}
