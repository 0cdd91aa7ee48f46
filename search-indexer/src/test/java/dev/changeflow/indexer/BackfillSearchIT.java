package dev.changeflow.indexer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.CaptureMain;
import dev.changeflow.capture.snapshot.BackfillStatus;
import dev.changeflow.capture.snapshot.Backfills;
import dev.changeflow.capture.testing.MainProcess;
import dev.changeflow.capture.testing.StateTopicReader;
import dev.changeflow.config.Settings;
import dev.changeflow.router.ChangeEventCodec;
import dev.changeflow.router.Op;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * A backfill of 100,000 tasks while the application keeps writing, with capture (a process) killed by SIGKILL twice
 * during it: the first time its standby takes over, the second time a new capture starts. The backfill completes from
 * where it stopped, and the search index and a fresh reader of the state topic end equal to the database.
 */
class BackfillSearchIT {
    private static final int ROWS = 100_000;
    private static final int CHUNK = 1_000;
    private static final String STANDING_BY = "Standing by: waiting for the capture lease";
    private static final String HOLDING = "Holding the capture lease";

    @Test
    void aBackfillKilledTwiceCompletesFromWhereItStoppedAndLeavesSearchAndStateTopicEqualToTheDatabase()
            throws Exception {
        Path logs = Files.createDirectories(Path.of("target", "backfill-logs"));
        try (IndexerHarness h = IndexerHarness.lucene().withCapture("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data")
                .withCapture("CHANGEFLOW_CAPTURE_SNAPSHOT_CHUNK_SIZE", Integer.toString(CHUNK))) {
            List<String> original = new ArrayList<>();
            List<UUID> projects = new ArrayList<>();
            try (Connection c = h.sql(); var s = c.createStatement()) {
                s.execute("INSERT INTO app.organizations (name) VALUES ('backfill')");
                for (int p = 0; p < 4; p++) {
                    s.execute("INSERT INTO app.projects (organization_id, name) SELECT id, 'project " + p
                            + "' FROM app.organizations");
                }
                try (var rs = s.executeQuery("SELECT id FROM app.projects")) {
                    while (rs.next()) {
                        projects.add(UUID.fromString(rs.getString(1)));
                    }
                }
                s.execute("INSERT INTO app.tasks (project_id, title) SELECT (SELECT id FROM app.projects "
                        + "ORDER BY id OFFSET n % 4 LIMIT 1), 'task ' || n FROM generate_series(1, " + ROWS + ") n");
                try (var rs = s.executeQuery("SELECT id FROM app.tasks")) {
                    while (rs.next()) {
                        original.add(rs.getString(1));
                    }
                }
            }
            Map<String, String> captureEnv = h.world.captureSettings();
            List<Process> processes = new ArrayList<>();
            Set<String> deleted = ConcurrentHashMap.newKeySet();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
            try (Connection c = h.sql()) {
                processes.add(MainProcess.start(CaptureMain.class, captureEnv, logs.resolve("capture-0.log"), null));
                h.world.awaitSlotActive();
                IndexerService indexer = h.startIndexer();
                // The application goes on: retitles backfilled rows, inserts and deletes while the backfill runs.
                writer.scheduleAtFixedRate(() -> {
                    try {
                        String id = original.get(ThreadLocalRandom.current().nextInt(original.size()));
                        int dice = ThreadLocalRandom.current().nextInt(10);
                        if (dice < 6) {
                            execute(c, "UPDATE app.tasks SET title = ? WHERE id = ?::uuid", "w" + UUID.randomUUID(),
                                    id);
                        } else if (dice < 8) {
                            execute(c, "INSERT INTO app.tasks (project_id, title) VALUES (?, ?)",
                                    projects.get(ThreadLocalRandom.current().nextInt(projects.size())),
                                    "new " + UUID.randomUUID());
                        } else {
                            execute(c, "DELETE FROM app.tasks WHERE id = ?::uuid", id);
                            deleted.add(id);
                        }
                    } catch (Exception e) {
                        failure.compareAndSet(null, e);
                    }
                }, 0, 5, TimeUnit.MILLISECONDS);

                Backfills backfills = Backfills.from(Settings.of(captureEnv));
                backfills.start("projects", Optional.empty(), OptionalInt.empty());
                backfills.start("tasks", Optional.empty(), OptionalInt.empty());
                processes.add(MainProcess.start(CaptureMain.class, captureEnv, logs.resolve("capture-standby.log"),
                        null));
                awaitLog(logs.resolve("capture-standby.log"), STANDING_BY);
                awaitTasksDone(backfills, ROWS / 3);
                kill(processes.get(0));
                awaitLog(logs.resolve("capture-standby.log"), HOLDING);
                awaitTasksDone(backfills, 2 * ROWS / 3);
                kill(processes.get(1));
                processes.add(MainProcess.start(CaptureMain.class, captureEnv, logs.resolve("capture-2.log"), null));
                BackfillStatus done = await("the backfill of tasks is done").atMost(Duration.ofMinutes(4))
                        .pollInterval(Duration.ofSeconds(2)).until(() -> tasks(backfills),
                                s -> s.state() == BackfillStatus.State.DONE);
                writer.shutdown();
                assertThat(writer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
                assertThat(failure.get()).as("a write failed").isNull();

                h.awaitIndexEqualsDatabase(indexer, Duration.ofMinutes(4));
                Map<String, String> table = StateTopicReader.titlesInDatabase(c);
                Map<String, String> state = StateTopicReader.read(h.world.kafka.bootstrapServers(),
                        h.world.id + ".task.state").titles();
                assertThat(differences(state, table)).as("rows where the state topic differs from app.tasks")
                        .isEmpty();

                Map<String, Long> readsPerRow = new HashMap<>();
                for (ConsumerRecord<String, byte[]> r : h.records("tasks")) {
                    var event = ChangeEventCodec.decode(r.value());
                    if (event.op() == Op.READ) {
                        readsPerRow.merge(event.key().get("id").toString(), 1L, Long::sum);
                    }
                }
                Set<String> expected = original.stream().filter(id -> !deleted.contains(id))
                        .collect(Collectors.toSet());
                // A row changed while its chunk's window was open is dropped from the chunk (DBLog): its streamed
                // change, newer than the read would have been, carries it instead.
                Set<String> unread = new TreeSet<>(expected);
                unread.removeAll(readsPerRow.keySet());
                assertThat(unread).as("backfilled rows never read are rows the application changed meanwhile")
                        .allSatisfy(id -> assertThat(table.get(id)).startsWith("w"));
                assertThat(unread.size()).as("rows never read").isLessThan(ROWS / 100);
                long reRead = readsPerRow.values().stream().mapToLong(n -> n - 1).sum();
                long chunksReRead = (reRead + CHUNK - 1) / CHUNK;
                System.out.printf("Backfill of %d tasks, SIGKILL twice (failover, then restart): %d rows read "
                        + "again, %d chunks of %d; %s%n", ROWS, reRead, chunksReRead, CHUNK, done);
                assertThat(chunksReRead).as("chunks read again: at most the one in hand at each kill")
                        .isLessThanOrEqualTo(2);
            } finally {
                writer.shutdownNow();
                processes.forEach(Process::destroyForcibly);
            }
        }
    }

    private static BackfillStatus tasks(Backfills backfills) throws Exception {
        return backfills.status().stream().filter(b -> b.table().equals("app.tasks")).findFirst().orElseThrow();
    }

    /** Waits until the backfill of tasks has published at least {@code rows} rows, as its status says. */
    private static void awaitTasksDone(Backfills backfills, long rows) {
        await("the backfill of tasks past " + rows + " rows").atMost(Duration.ofMinutes(4))
                .pollInterval(Duration.ofSeconds(1)).until(() -> {
                    BackfillStatus s = tasks(backfills);
                    return s.state() == BackfillStatus.State.DONE || s.rowsDone() >= rows;
                });
    }

    private static void kill(Process process) throws InterruptedException {
        process.destroyForcibly();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("capture gone after SIGKILL").isTrue();
    }

    private static void awaitLog(Path log, String text) {
        await("\"" + text + "\" in " + log).atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .until(() -> Files.exists(log) && Files.readString(log, StandardCharsets.UTF_8).contains(text));
    }

    private static void execute(Connection c, String sql, Object... args) throws Exception {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            s.executeUpdate();
        }
    }



    /** The first few rows that differ, as "id: state topic / table". */
    private static List<String> differences(Map<String, String> copy, Map<String, String> table) {
        Set<String> ids = new TreeSet<>(copy.keySet());
        ids.addAll(table.keySet());
        return ids.stream().filter(id -> !Objects.equals(copy.get(id), table.get(id)))
                .map(id -> id + ": " + copy.get(id) + " / " + table.get(id)).limit(10).toList();
    }
}
