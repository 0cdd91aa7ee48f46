package dev.changeflow.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.CaptureHarness.Received;
import dev.changeflow.capture.internal.SnapshotProgress;
import dev.changeflow.capture.slot.ReplicationSlots;
import dev.changeflow.capture.slot.ReplicationSlots.Reset;
import dev.changeflow.capture.slot.SlotRefusedException;
import dev.changeflow.capture.slot.SlotStatus;
import dev.changeflow.config.Settings;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Slot status, reset and drop on a real Postgres and Kafka, while an application keeps writing and capture streams:
 * the reset refuses what could lose data, and a resnapshot reset loses nothing end to end.
 */
class SlotResetIT {

    @Test
    void resettingTheSlotUnderLoadLosesNoChangeAndCaptureResumesWithASnapshot() throws Exception {
        try (CaptureHarness h = new CaptureHarness(); Connection writerConnection = h.sql()) {
            h.startCapture();
            ReplicationSlots slots = ReplicationSlots.from(Settings.of(h.settings()));
            UUID project = Rows.project(writerConnection, Rows.organization(writerConnection, "reset"), "Reset");
            List<UUID> tasks = new CopyOnWriteArrayList<>();
            Map<UUID, String> lastTitle = new ConcurrentHashMap<>();
            AtomicReference<Throwable> writeFailure = new AtomicReference<>();
            ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
            writer.scheduleAtFixedRate(() -> write(writerConnection, project, tasks, lastTitle, writeFailure), 0, 3,
                    TimeUnit.MILLISECONDS);
            try {
                h.awaitCount(200, Duration.ofSeconds(60));

                assertThatThrownBy(() -> slots.reset(h.id, Reset.RESNAPSHOT, false, false, line -> { }))
                        .as("capture holds the slot").isInstanceOf(SlotRefusedException.class)
                        .hasMessageContaining("capture holds slot " + h.id).hasMessageContaining("--stop-capture");
                assertThatThrownBy(() -> slots.reset(h.id, Reset.FROM_NOW, false, true, line -> { }))
                        .as("--from-now without --accept-gap").isInstanceOf(SlotRefusedException.class)
                        .hasMessageContaining("--accept-gap").hasMessageContaining("skipped");
                SlotStatus held = slots.status(h.id).orElseThrow();
                assertThat(held.active()).as("refusals changed nothing").isTrue();
                assertThat(held.leaseHolder()).contains("changeflow-capture " + h.id);

                List<String> log = new CopyOnWriteArrayList<>();
                ReplicationSlots.Outcome outcome = slots.reset(h.id, Reset.RESNAPSHOT, false, true, log::add);
                assertThat(outcome.stoppedCapture()).isTrue();
                assertThat(outcome.offsetsCleared()).isPositive();
                assertThat(outcome.newSlotLsn()).isNotBlank();
                assertThat(log).anyMatch(l -> l.startsWith("dropped slot")).anyMatch(l -> l.startsWith("created slot"));

                // Capture resumes by itself, snapshots, then streams from the new slot.
                h.awaitSlotActive();
                await("the snapshot after the reset").atMost(Duration.ofSeconds(60))
                        .until(() -> h.registry.find(SnapshotProgress.ROWS).counter() != null
                                && h.registry.find(SnapshotProgress.ROWS).counter().count() >= 50);
                int afterReset = tasks.size();
                await("writes after the reset").atMost(Duration.ofSeconds(30)).until(() -> tasks.size() > afterReset + 50);
            } finally {
                writer.shutdown();
                assertThat(writer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(writeFailure.get()).isNull();

            Map<String, String> expected = titles(h);
            List<Received> received = h.awaitEvents(events -> lastTitles(events).equals(expected),
                    Duration.ofSeconds(90));
            assertThat(lastTitles(received)).as("every row's latest state, end to end").isEqualTo(expected);
            assertThat(received).as("snapshot rows after the reset")
                    .anyMatch(r -> r.event().source().snapshot() && r.event().table().equals("tasks"));
        }
    }

    @Test
    void aResetWhileCaptureIsStoppedTakesEffectWhenCaptureRestarts() throws Exception {
        try (CaptureHarness h = new CaptureHarness(); Connection c = h.sql()) {
            UUID task = taskCapturedThenRetitledWhileCaptureIsStopped(h, c, "while stopped");

            ReplicationSlots slots = ReplicationSlots.from(Settings.of(h.settings()));
            ReplicationSlots.Outcome outcome = slots.reset(h.id, Reset.RESNAPSHOT, false, false, line -> { });
            assertThat(outcome.stoppedCapture()).isFalse();
            Rows.execute(c, "UPDATE app.tasks SET title = 'after reset' WHERE id = ?", task);

            h.startCapture();
            // The snapshot is incremental: the row's read may come before or after the streamed update.
            List<Received> received = h.awaitEvents(events -> "after reset".equals(lastTitles(events)
                    .get(task.toString())) && events.stream().anyMatch(r -> r.event().source().snapshot()
                            && task.toString().equals(r.event().after().get("id"))), Duration.ofSeconds(60));
            assertThat(received).as("the snapshot shows the row as it was when capture restarted")
                    .anyMatch(r -> r.event().source().snapshot() && task.toString().equals(r.event().after().get("id")));
        }
    }

    @Test
    void resettingFromNowWithTheGapAcceptedSkipsTheSnapshotAndStreamsNewChanges() throws Exception {
        // No first snapshot in flight: a from-now reset moves the offsets, and a backfill in them would go on.
        try (CaptureHarness h = new CaptureHarness().with("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data");
                Connection c = h.sql()) {
            UUID task = taskCapturedThenRetitledWhileCaptureIsStopped(h, c, "in the gap");

            ReplicationSlots slots = ReplicationSlots.from(Settings.of(h.settings()));
            String gap = slots.gap(h.id);
            assertThat(gap).contains("not published").contains("no snapshot");
            List<String> log = new CopyOnWriteArrayList<>();
            // The first capture's own first snapshot (incremental) may have read the row before the reset.
            java.time.Instant resetAt = java.time.Instant.now();
            ReplicationSlots.Outcome outcome = slots.reset(h.id, Reset.FROM_NOW, true, false, log::add);
            assertThat(outcome.offsetsCleared()).isZero();
            assertThat(log).anyMatch(l -> l.startsWith("skipping: "));
            Rows.execute(c, "UPDATE app.tasks SET title = 'after reset' WHERE id = ?", task);

            h.startCapture();
            List<Received> received = h.awaitEvents(events -> "after reset".equals(lastTitles(events)
                    .get(task.toString())), Duration.ofSeconds(60));
            assertThat(received).as("no snapshot after the reset").noneMatch(r -> r.event().source().snapshot()
                    && r.event().source().commitTs().isAfter(resetAt));
            assertThat(received).as("the change in the accepted gap is skipped")
                    .noneMatch(r -> r.event().after() != null && "in the gap".equals(r.event().after().get("title")));
        }
    }

    @Test
    void droppingTheSlotRefusesWhileCaptureHoldsItAndClearsTheOffsetsSoTheNextCaptureSnapshots() throws Exception {
        try (CaptureHarness h = new CaptureHarness(); Connection c = h.sql()) {
            CaptureService capture = h.startCapture();
            UUID project = Rows.project(c, Rows.organization(c, "drop"), "Drop");
            Rows.task(c, project, "kept", null);
            h.awaitEvents(events -> lastTitles(events).containsValue("kept"), Duration.ofSeconds(60));
            ReplicationSlots slots = ReplicationSlots.from(Settings.of(h.settings()));
            assertThatThrownBy(() -> slots.drop(h.id, false, line -> { })).isInstanceOf(SlotRefusedException.class);

            capture.close();
            ReplicationSlots.Outcome outcome = slots.drop(h.id, false, line -> { });
            assertThat(outcome.before()).isNotNull();
            assertThat(outcome.offsetsCleared()).isPositive();
            assertThat(slots.status(h.id)).isEmpty();

            h.startCapture();
            await("a new snapshot").atMost(Duration.ofSeconds(60)).until(() ->
                    h.registry.find(SnapshotProgress.ROWS).counter().count() >= 2);
        }
    }

    /**
     * Starts capture, inserts a task titled "before" and waits for its event, stops capture, then retitles the task
     * to {@code title}: a change committed while no capture runs.
     */
    private static UUID taskCapturedThenRetitledWhileCaptureIsStopped(CaptureHarness h, Connection c, String title)
            throws Exception {
        CaptureService capture = h.startCapture();
        UUID project = Rows.project(c, Rows.organization(c, "stopped"), "Stopped");
        UUID task = Rows.task(c, project, "before", null);
        h.awaitEvents(events -> lastTitles(events).containsValue("before"), Duration.ofSeconds(60));
        capture.close();
        Rows.execute(c, "UPDATE app.tasks SET title = ? WHERE id = ?", title, task);
        return task;
    }

    private static void write(Connection c, UUID project, List<UUID> tasks, Map<UUID, String> lastTitle,
            AtomicReference<Throwable> failure) {
        try {
            if (tasks.size() < 50 || ThreadLocalRandom.current().nextInt(4) == 0) {
                UUID task = Rows.task(c, project, "v0", null);
                tasks.add(task);
                lastTitle.put(task, "v0");
            } else {
                UUID task = tasks.get(ThreadLocalRandom.current().nextInt(tasks.size()));
                String title = "v" + UUID.randomUUID();
                Rows.execute(c, "UPDATE app.tasks SET title = ? WHERE id = ?", title, task);
                lastTitle.put(task, title);
            }
        } catch (Exception e) {
            failure.compareAndSet(null, e);
        }
    }

    /** Title of every task in the database, by id. */
    private static Map<String, String> titles(CaptureHarness h) throws Exception {
        Map<String, String> titles = new HashMap<>();
        try (Connection c = h.sql(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id, title FROM app.tasks")) {
            while (rs.next()) {
                titles.put(rs.getString(1), rs.getString(2));
            }
        }
        return titles;
    }

    /** The title of each task's latest event, by id, in the order events were read per partition. */
    private static Map<String, String> lastTitles(List<Received> events) {
        Map<String, String> titles = new HashMap<>();
        for (Received r : events) {
            if (r.event().table().equals("tasks") && r.event().after() != null) {
                titles.put(String.valueOf(r.event().after().get("id")), String.valueOf(r.event().after().get("title")));
            }
        }
        return titles;
    }

}
