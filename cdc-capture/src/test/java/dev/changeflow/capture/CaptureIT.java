package dev.changeflow.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.CaptureHarness.Received;
import dev.changeflow.capture.internal.CaptureMetrics;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.Op;
import dev.changeflow.config.Settings;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class CaptureIT {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void aSecondCaptureOfTheSameSlotStandsByWithoutTheLeaseAndTakesOverWhenTheFirstCloses() throws Exception {
        try (CaptureHarness h = new CaptureHarness(); Connection c = h.sql()) {
            CaptureService first = h.startCapture();
            SimpleMeterRegistry standbyMeters = new SimpleMeterRegistry();
            CaptureService second = CaptureService.create(Settings.of(h.settings()), standbyMeters);
            try {
                second.start();
                assertThat(leaseHeld(h.registry)).as("the first capture holds the lease").isEqualTo(1);
                await("the second capture stands by").during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5))
                        .until(() -> leaseHeld(standbyMeters) == 0 && second.isReady());

                first.close();
                await("the standby takes the lease").atMost(Duration.ofSeconds(30))
                        .until(() -> leaseHeld(standbyMeters) == 1);
                UUID project = Rows.project(c, Rows.organization(c, "standby"), "After the takeover");
                h.awaitEvents(events -> events.stream().anyMatch(r -> r.event().table().equals("projects")
                        && project.toString().equals(r.event().key().get("id"))), Duration.ofSeconds(30));
            } finally {
                second.close();
            }
        }
    }

    private static double leaseHeld(MeterRegistry registry) {
        return registry.get("changeflow.capture.lease.held").gauge().value();
    }

    @Test
    void insertUpdateDeleteAndPrimaryKeyUpdateOfATaskGiveTheRightEvents() throws Exception {
        try (CaptureHarness h = new CaptureHarness(); Connection c = h.sql()) {
            h.with("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data").startCapture();
            UUID project = Rows.project(c, Rows.organization(c, "acme"), "Apollo");
            UUID task = Rows.task(c, project, "Write spec", "first draft");
            Rows.execute(c, "UPDATE app.tasks SET status = 'in_progress', assignee = 'ada' WHERE id = ?", task);
            UUID moved = UUID.randomUUID();
            Rows.execute(c, "UPDATE app.tasks SET id = ? WHERE id = ?", moved, task);
            Rows.execute(c, "DELETE FROM app.tasks WHERE id = ?", moved);

            // The old and the new key may sit in different partitions: put the events in commit (LSN) order. The
            // delete and create of a primary-key update share one LSN; Debezium emits the delete first.
            List<ChangeEvent> tasks = h.awaitEvents(events -> taskEvents(events).size() >= 5, WAIT).stream()
                    .filter(r -> r.event().table().equals("tasks")).map(Received::event)
                    .sorted(java.util.Comparator.<ChangeEvent>comparingLong(e -> e.source().lsn())
                            .thenComparing(e -> e.op() != Op.DELETE))
                    .toList();

            assertThat(tasks).extracting(ChangeEvent::op)
                    .containsExactly(Op.CREATE, Op.UPDATE, Op.DELETE, Op.CREATE, Op.DELETE);
            ChangeEvent create = tasks.get(0);
            assertThat(create.before()).isNull();
            assertThat(create.key()).containsEntry("id", task.toString());
            assertThat(create.after()).containsEntry("id", task.toString())
                    .containsEntry("project_id", project.toString())
                    .containsEntry("title", "Write spec")
                    .containsEntry("description", "first draft")
                    .containsEntry("status", "todo")
                    .containsEntry("priority", 2L)
                    .containsEntry("due_date", "2026-12-24");
            assertThat((String) create.after().get("created_at")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z");
            ChangeEvent update = tasks.get(1);
            assertThat(update.before()).containsEntry("status", "todo").containsEntry("assignee", null);
            assertThat(update.after()).containsEntry("status", "in_progress").containsEntry("assignee", "ada");
            // A primary-key update arrives as a delete of the old key and a create of the new one.
            assertThat(tasks.get(2).key()).containsEntry("id", task.toString());
            assertThat(tasks.get(2).before()).containsEntry("status", "in_progress");
            assertThat(tasks.get(3).key()).containsEntry("id", moved.toString());
            assertThat(tasks.get(3).after()).containsEntry("status", "in_progress");
            // With REPLICA IDENTITY FULL a delete carries the real row, not placeholders.
            ChangeEvent delete = tasks.get(4);
            assertThat(delete.after()).isNull();
            assertThat(delete.before()).containsEntry("project_id", project.toString())
                    .containsEntry("title", "Write spec").containsEntry("assignee", "ada");
            assertThat(tasks).allSatisfy(e -> {
                assertThat(e.schemaVersion()).isEqualTo(1);
                assertThat(e.source().snapshot()).isFalse();
                assertThat(e.source().txId()).isPositive();
            });
        }
    }

    @Test
    void eventsAreKeyedByTableAndPrimaryKeyWithOpTableAndLsnHeaders() throws Exception {
        try (CaptureHarness h = new CaptureHarness(); Connection c = h.sql()) {
            h.with("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data").startCapture();
            UUID project = Rows.project(c, Rows.organization(c, "acme"), "Apollo");
            Rows.execute(c, "UPDATE app.projects SET name = 'Apollo 11' WHERE id = ?", project);

            List<Received> events = h.awaitCount(2, WAIT);

            assertThat(events).allSatisfy(r -> {
                assertThat(r.topic()).isEqualTo(h.topic("projects"));
                assertThat(r.key()).isEqualTo("projects:" + project);
                assertThat(r.headers()).containsEntry("cdc-table", "projects")
                        .containsEntry("cdc-lsn", Long.toString(r.event().source().lsn()));
            });
            assertThat(events).extracting(r -> r.headers().get("cdc-op")).containsExactly("create", "update");
            assertThat(events.get(1).event().source().lsn()).isGreaterThan(events.get(0).event().source().lsn());
            // Counted once Kafka acknowledged them: a batch is settled when the next one (at worst a heartbeat) comes.
            await("published events counted").atMost(WAIT).until(() -> h.registry.find(CaptureMetrics.EVENTS)
                    .tag("table", "projects").tag("op", "update").counters().stream()
                    .mapToDouble(counter -> counter.count()).sum() == 1.0);
            assertThat(h.registry.get(CaptureMetrics.BATCH_SIZE).summary().totalAmount()).isGreaterThanOrEqualTo(2);
            assertThat(h.registry.get(CaptureMetrics.PUBLISH_LATENCY).timer().count()).isPositive();
        }
    }

    @Test
    void anUnchangedToastedDescriptionArrivesWithItsRealValue() throws Exception {
        // Random text does not compress, so 20 KB is stored out of line (TOASTed).
        String large = IntStream.range(0, 600).mapToObj(i -> UUID.randomUUID().toString()).collect(Collectors.joining());
        try (CaptureHarness h = new CaptureHarness(); Connection c = h.sql()) {
            h.with("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data").startCapture();
            UUID task = Rows.task(c, Rows.project(c, Rows.organization(c, "acme"), "Apollo"), "Big", large);
            Rows.execute(c, "UPDATE app.tasks SET title = 'Big, renamed' WHERE id = ?", task);
            assertThat(toastedSize(c)).as("the description is stored out of line").isPositive();

            List<Received> events = h.awaitEvents(e -> taskEvents(e).size() >= 2, WAIT);

            ChangeEvent update = taskEvents(events).get(1);
            assertThat(update.op()).isEqualTo(Op.UPDATE);
            assertThat(update.after()).containsEntry("title", "Big, renamed").containsEntry("description", large);
            assertThat(update.before()).containsEntry("description", large);
        }
    }

    @Test
    void onFirstStartEveryExistingRowIsEmittedAsAReadEventBeforeStreamingBegins() throws Exception {
        try (CaptureHarness h = new CaptureHarness(); Connection c = h.sql()) {
            UUID project = Rows.project(c, Rows.organization(c, "acme"), "Existing");
            for (int i = 0; i < 25; i++) {
                Rows.task(c, project, "existing " + i, null);
            }
            h.startCapture();
            h.awaitCount(26, WAIT);
            UUID fresh = Rows.task(c, project, "after start", null);

            List<Received> events = h.awaitEvents(e -> e.stream().anyMatch(r -> r.event().op() == Op.CREATE), WAIT);

            List<Received> reads = events.stream().filter(r -> r.event().op() == Op.READ).toList();
            Received create = events.stream().filter(r -> r.event().op() == Op.CREATE).findFirst().orElseThrow();
            assertThat(reads).hasSize(26).allSatisfy(r -> {
                assertThat(r.event().source().snapshot()).isTrue();
                assertThat(r.event().before()).isNull();
                assertThat(r.event().source().lsn()).isLessThan(create.event().source().lsn());
            });
            assertThat(create.event().key()).containsEntry("id", fresh.toString());
            assertThat(create.event().source().snapshot()).isFalse();
        }
    }

    @Test
    void heartbeatsAdvanceTheSlotWhileCapturedTablesAreIdleAndAnotherTableIsWritten() throws Exception {
        try (CaptureHarness h = new CaptureHarness(); Connection c = h.sql()) {
            h.with("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data").startCapture();
            await("slot created").atMost(WAIT).until(() -> confirmedFlushLsn(c, h.id) != null);
            String start = confirmedFlushLsn(c, h.id);

            await("confirmed_flush_lsn advances past " + start).atMost(WAIT).pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        Rows.organization(c, "busy elsewhere");
                        return lsnGreater(confirmedFlushLsn(c, h.id), start);
                    });

            assertThat(h.registry.find(CaptureMetrics.EVENTS).counters())
                    .as("heartbeats move the slot but are never published").isEmpty();
        }
    }

    static List<ChangeEvent> taskEvents(List<Received> events) {
        return events.stream().map(Received::event).filter(e -> e.table().equals("tasks")).toList();
    }

    private static long toastedSize(Connection c) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'app.tasks'::regclass")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String confirmedFlushLsn(Connection c, String slot) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '" + slot + "'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static boolean lsnGreater(String a, String b) {
        return a != null && lsn(a) > lsn(b);
    }

    private static long lsn(String text) {
        String[] parts = text.split("/");
        return (Long.parseLong(parts[0], 16) << 32) + Long.parseLong(parts[1], 16);
    }
}
