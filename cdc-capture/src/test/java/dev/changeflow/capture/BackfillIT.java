package dev.changeflow.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.CaptureHarness.Received;
import dev.changeflow.capture.snapshot.BackfillRefusedException;
import dev.changeflow.capture.snapshot.BackfillStatus;
import dev.changeflow.capture.snapshot.Backfills;
import dev.changeflow.config.Settings;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.Op;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Backfills while streaming (incremental snapshots through Debezium's signal table), capture in this JVM. */
class BackfillIT {

    @Test
    void aNewDeploymentStreamsAtOnceAndReadsTheExistingRowsIncrementally() throws Exception {
        try (CaptureHarness h = new CaptureHarness().with("CHANGEFLOW_CAPTURE_SNAPSHOT_CHUNK_SIZE", "50")) {
            Set<String> existing;
            try (Connection c = h.sql()) {
                UUID project = Rows.project(c, Rows.organization(c, "org"), "Existing");
                for (int i = 0; i < 300; i++) {
                    Rows.task(c, project, "existing " + i, null);
                }
                existing = ids(c, "SELECT id FROM app.tasks");
            }
            h.startCapture();
            UUID streamed;
            try (Connection c = h.sql()) {
                streamed = Rows.task(c, Rows.project(c, Rows.organization(c, "org2"), "New"), "streamed", null);
            }

            List<Received> received = h.awaitEvents(events -> reads(events, "tasks").containsAll(existing)
                    && events.stream().anyMatch(r -> r.event().op() == Op.CREATE
                            && r.event().key().get("id").equals(streamed.toString())), Duration.ofSeconds(90));

            List<String> taskReads = received.stream().map(Received::event)
                    .filter(e -> e.op() == Op.READ && e.table().equals("tasks"))
                    .map(e -> e.key().get("id").toString()).toList();
            assertThat(taskReads).as("every task read once (the one written meanwhile too, if the snapshot saw it)")
                    .doesNotHaveDuplicates().containsAll(existing);
            assertThat(taskReads.size()).isBetween(existing.size(), existing.size() + 1);
            assertThat(received).filteredOn(r -> r.event().op() == Op.READ)
                    .allSatisfy(r -> assertThat(r.event().source().snapshot()).isTrue());
            BackfillStatus first = await("the first snapshot is done").atMost(Duration.ofSeconds(60))
                    .until(() -> Backfills.from(Settings.of(h.settings())).status().get(0),
                            s -> s.state() == BackfillStatus.State.DONE);
            assertThat(first.table()).isEqualTo("app.tasks,app.projects");
            assertThat(first.rowsEstimate()).isEqualTo(existing.size() + 1);
        }
    }

    @Test
    void aBackfillOfAWhereSubsetEmitsOnlyThoseRowsAsReadEvents() throws Exception {
        try (CaptureHarness h = new CaptureHarness().with("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data")
                .with("CHANGEFLOW_CAPTURE_SNAPSHOT_CHUNK_SIZE", "40")) {
            UUID chosen;
            Set<String> chosenTasks;
            try (Connection c = h.sql()) {
                UUID org = Rows.organization(c, "org");
                chosen = Rows.project(c, org, "Chosen");
                UUID other = Rows.project(c, org, "Other");
                for (int i = 0; i < 120; i++) {
                    Rows.task(c, i % 3 == 0 ? chosen : other, "task " + i, null);
                }
                chosenTasks = ids(c, "SELECT id FROM app.tasks WHERE project_id = '" + chosen + "'");
            }
            h.startCapture();
            Backfills backfills = Backfills.from(Settings.of(h.settings()));

            BackfillStatus started = backfills.start("tasks", Optional.of("project_id = '" + chosen + "'"),
                    OptionalInt.empty());

            assertThat(started.rowsEstimate()).isEqualTo(40);
            await("the backfill is done").atMost(Duration.ofSeconds(90))
                    .until(() -> backfills.status().get(0).state() == BackfillStatus.State.DONE);
            List<Received> received = h.awaitEvents(events -> reads(events, "tasks").containsAll(chosenTasks),
                    Duration.ofSeconds(30));
            assertThat(reads(received, "tasks")).containsExactlyInAnyOrderElementsOf(chosenTasks);
            assertThat(received).filteredOn(r -> r.event().op() == Op.READ)
                    .allSatisfy(r -> assertThat(r.event().after().get("project_id")).isEqualTo(chosen.toString()));
        }
    }

    @Test
    void aPacedBackfillPausesBetweenChunksReadsEveryRowOnceAndStreamingGoesOn() throws Exception {
        int rows = 1_000;
        int perSecond = 200;
        try (CaptureHarness h = new CaptureHarness().with("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data")
                // Debezium hands over a chunk's rows together when its window closes. Even when capture publishes
                // slower than the pace (a loaded machine: 130 rows/s seen on CI), one batch of more than 40 rows is
                // worth more than the 200 ms between "100 ms behind" and "100 ms ahead" at 200 rows/s: a pause.
                .with("CHANGEFLOW_CAPTURE_SNAPSHOT_CHUNK_SIZE", "500")
                .with("CHANGEFLOW_CAPTURE_SNAPSHOT_MAX_ROWS_PER_SECOND", Integer.toString(perSecond))) {
            UUID project;
            Set<String> existing;
            try (Connection c = h.sql(); var s = c.createStatement()) {
                project = Rows.project(c, Rows.organization(c, "org"), "Paced");
                s.execute("INSERT INTO app.tasks (project_id, title) SELECT '" + project + "', 'task ' || n "
                        + "FROM generate_series(1, " + rows + ") n");
                existing = ids(c, "SELECT id FROM app.tasks");
            }
            h.startCapture();
            Backfills backfills = Backfills.from(Settings.of(h.settings()));
            long started = System.nanoTime();
            backfills.start("tasks", Optional.empty(), OptionalInt.empty());
            Set<String> streamed = java.util.concurrent.ConcurrentHashMap.newKeySet();
            var writer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
            Duration took;
            try (Connection c = h.sql()) {
                // The application goes on writing, ten inserts a second, while the backfill is paced.
                writer.scheduleAtFixedRate(() -> {
                    try {
                        streamed.add(Rows.task(c, project, "streamed meanwhile", null).toString());
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, 0, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
                await("the backfill is done").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
                        .until(() -> backfills.status().get(0).state() == BackfillStatus.State.DONE);
                took = Duration.ofNanos(System.nanoTime() - started);
                writer.shutdown();
                assertThat(writer.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            } finally {
                writer.shutdownNow();
            }

            List<Received> received = h.awaitEvents(events -> reads(events, "tasks").containsAll(existing)
                    && events.stream().filter(r -> r.event().op() == Op.CREATE)
                            .map(r -> r.event().key().get("id").toString()).collect(Collectors.toSet())
                            .containsAll(streamed), Duration.ofSeconds(60));
            List<String> taskReads = received.stream().map(Received::event)
                    .filter(e -> e.op() == Op.READ && e.table().equals("tasks"))
                    .map(e -> e.key().get("id").toString()).toList();
            assertThat(taskReads).as("every row read once: no chunk was read inside another")
                    .doesNotHaveDuplicates().containsAll(existing);
            assertThat(streamed).as("changes streamed while the backfill was paced").hasSizeGreaterThan(5);
            try (Connection c = h.sql(); var s = c.createStatement();
                    var rs = s.executeQuery("SELECT count(*) FROM app.changeflow_signal WHERE type = 'pause-snapshot'")) {
                rs.next();
                assertThat(rs.getLong(1)).as("pauses written by the pacer").isPositive();
            }
            // Paced at 200 rows/s, 1,000 rows cannot be done in much less than 5 s (the pacer lets the rows run
            // ahead by 100 ms, and the chunks Debezium read before a pause took effect).
            assertThat(took).as("time to backfill %d rows at most %d per second", rows, perSecond)
                    .isGreaterThan(Duration.ofMillis(2_500));
        }
    }

    @Test
    void aChangeOfATransactionOpenAcrossTheChunkIsVersionedAboveTheRowsReadAndTheReadAboveOlderChanges()
            throws Exception {
        try (CaptureHarness h = new CaptureHarness().with("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data")) {
            h.startCapture();
            UUID task;
            try (Connection c = h.sql()) {
                task = Rows.task(c, Rows.project(c, Rows.organization(c, "org"), "Window"), "committed", null);
            }
            List<Received> created = h.awaitEvents(events -> events.stream().anyMatch(r -> r.event().op() == Op.CREATE
                    && r.event().table().equals("tasks")), Duration.ofSeconds(30));
            long createLsn = created.stream().filter(r -> r.event().table().equals("tasks")).findFirst().orElseThrow()
                    .event().source().lsn();
            // The slot's restart position moves past the create once Postgres logs its running transactions (a
            // checkpoint does) and capture confirms what it published.
            try (Connection c = h.sql()) {
                await("the slot's restart_lsn past the create").atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(500)).until(() -> {
                            try (var s = c.createStatement()) {
                                s.execute("CHECKPOINT");
                                try (var rs = s.executeQuery("SELECT restart_lsn::text FROM pg_replication_slots "
                                        + "WHERE slot_name = '" + h.id + "'")) {
                                    return rs.next() && Long.compareUnsigned(dev.changeflow.capture.internal
                                            .CaptureOffsets.parseLsn(rs.getString(1)), createLsn) > 0;
                                }
                            }
                        });
            }
            try (Connection open = h.sql()) {
                // A transaction changes the row before the backfill's window opens and commits after it closed.
                open.setAutoCommit(false);
                Rows.execute(open, "UPDATE app.tasks SET title = 'open transaction' WHERE id = ?", task);
                Backfills.from(Settings.of(h.settings())).start("tasks", Optional.empty(), OptionalInt.empty());
                List<Received> read = h.awaitEvents(events -> events.stream().anyMatch(r -> r.event().op() == Op.READ),
                        Duration.ofSeconds(60));
                ChangeEvent readEvent = read.stream().map(Received::event).filter(e -> e.op() == Op.READ)
                        .findFirst().orElseThrow();
                assertThat(readEvent.after().get("title")).as("the chunk saw the committed row").isEqualTo("committed");
                open.commit();

                List<Received> all = h.awaitEvents(events -> events.stream().anyMatch(r -> r.event().op() == Op.UPDATE),
                        Duration.ofSeconds(30));
                ChangeEvent update = all.stream().map(Received::event).filter(e -> e.op() == Op.UPDATE).findFirst()
                        .orElseThrow();
                assertThat(Long.compareUnsigned(update.source().lsn(), readEvent.source().lsn()))
                        .as("the newer change (LSN %s) outranks the read (version %s)",
                                Long.toUnsignedString(update.source().lsn()),
                                Long.toUnsignedString(readEvent.source().lsn())).isPositive();
                assertThat(Long.compareUnsigned(readEvent.source().lsn(), createLsn))
                        .as("the read outranks the change it contains, so it can repair a copy").isPositive();
            }
        }
    }

    @Test
    void badRequestsAreRefusedWithOneLineAndChangeNothing() throws Exception {
        try (CaptureHarness h = new CaptureHarness().with("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data")) {
            h.startCapture();
            Backfills backfills = Backfills.from(Settings.of(h.settings()));

            assertThatThrownBy(() -> backfills.start("nosuch", Optional.empty(), OptionalInt.empty()))
                    .isInstanceOf(BackfillRefusedException.class).hasMessageStartingWith("unknown table 'nosuch'");
            assertThatThrownBy(() -> backfills.start("organizations", Optional.empty(), OptionalInt.empty()))
                    .isInstanceOf(BackfillRefusedException.class)
                    .hasMessageStartingWith("table app.organizations is not captured");
            assertThatThrownBy(() -> backfills.start("tasks", Optional.of("nosuch_column = 1"), OptionalInt.empty()))
                    .isInstanceOf(BackfillRefusedException.class).hasMessageContaining("nosuch_column");
            assertThatThrownBy(() -> backfills.start("tasks", Optional.of("title = 'x' AND"), OptionalInt.empty()))
                    .isInstanceOf(BackfillRefusedException.class).hasMessageContaining("syntax error");
            assertThatThrownBy(() -> backfills.start("tasks", Optional.of("true); DROP TABLE app.tasks; --"),
                    OptionalInt.empty())).isInstanceOf(BackfillRefusedException.class)
                    .hasMessageContaining("does not parse");
            assertThatThrownBy(() -> backfills.stop("tasks")).isInstanceOf(BackfillRefusedException.class)
                    .hasMessageStartingWith("no backfill of app.tasks");
            assertThat(backfills.status()).as("nothing was requested").isEmpty();

            try (Connection c = h.sql()) {
                UUID project = Rows.project(c, Rows.organization(c, "org"), "Many");
                Rows.execute(c, "INSERT INTO app.tasks (project_id, title) SELECT ?, 'task ' || n "
                        + "FROM generate_series(1, 5000) n", project);
            }
            backfills.start("tasks", Optional.empty(), OptionalInt.of(10));
            assertThatThrownBy(() -> backfills.start("tasks", Optional.empty(), OptionalInt.empty()))
                    .isInstanceOf(BackfillRefusedException.class).hasMessageContaining("already")
                    .matches(e -> ((BackfillRefusedException) e).conflict());
            assertThat(backfills.status()).hasSize(1);
            try (Connection c = h.sql(); var s = c.createStatement();
                    var rs = s.executeQuery("SELECT count(*) FROM app.changeflow_signal WHERE type = 'execute-snapshot'")) {
                rs.next();
                assertThat(rs.getLong(1)).as("one request signalled").isEqualTo(1);
            }
        }
    }

    @Test
    void aCaptureKilledDuringItsFirstSnapshotResumesItInsteadOfStartingOver() throws Exception {
        int rows = 60_000;
        int chunk = 500;
        java.nio.file.Path logs = java.nio.file.Files.createDirectories(java.nio.file.Path.of("target",
                "first-snapshot-logs"));
        try (CaptureHarness h = new CaptureHarness().with("CHANGEFLOW_CAPTURE_SNAPSHOT_CHUNK_SIZE",
                Integer.toString(chunk))) {
            try (Connection c = h.sql()) {
                UUID project = Rows.project(c, Rows.organization(c, "org"), "Existing");
                Rows.execute(c, "INSERT INTO app.tasks (project_id, title) SELECT ?, 'task ' || n "
                        + "FROM generate_series(1, " + rows + ") n", project);
            }
            CaptureProcess first = CaptureProcess.startStreaming(h, logs.resolve(h.id + "-first.log"));
            List<Received> beforeKill;
            try {
                beforeKill = h.awaitEvents(events -> events.stream().filter(r -> r.event().op() == Op.READ).count()
                        >= rows / 4, Duration.ofSeconds(90));
                first.kill();
            } finally {
                first.close();
            }
            try (CaptureProcess second = CaptureProcess.startStreaming(h, logs.resolve(h.id + "-second.log"))) {
                List<Received> received = h.awaitEvents(events -> reads(events, "tasks").size() == rows,
                        Duration.ofSeconds(120));
                long readBeforeKill = beforeKill.stream().filter(r -> r.event().op() == Op.READ).count();
                long taskReads = received.stream().filter(r -> r.event().op() == Op.READ
                        && r.event().table().equals("tasks")).count();
                assertThat(readBeforeKill).as("killed mid-snapshot").isLessThan(rows);
                assertThat(taskReads - rows).as("rows read again after the kill: at most the chunk in hand")
                        .isLessThanOrEqualTo(chunk);
                try (Connection c = h.sql(); var s = c.createStatement(); var rs = s.executeQuery(
                        "SELECT count(*) FROM app.changeflow_signal WHERE id LIKE 'initial:%'")) {
                    rs.next();
                    assertThat(rs.getLong(1)).as("the first snapshot was requested once").isEqualTo(1);
                }
                assertThat(second.terminate()).isEqualTo(143);
            }
        }
    }

    private static Set<String> reads(List<Received> events, String table) {
        return events.stream().map(Received::event).filter(e -> e.op() == Op.READ && e.table().equals(table))
                .map(e -> e.key().get("id").toString()).collect(Collectors.toSet());
    }

    private static Set<String> ids(Connection c, String sql) throws Exception {
        try (var s = c.createStatement(); var rs = s.executeQuery(sql)) {
            Set<String> ids = new java.util.HashSet<>();
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
            return ids;
        }
    }

    @SuppressWarnings("unused")
    private static List<ChangeEvent> events(List<Received> received) {
        return received.stream().map(Received::event).toList();
    }
}
