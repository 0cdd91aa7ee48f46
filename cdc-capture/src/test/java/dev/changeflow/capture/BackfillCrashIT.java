package dev.changeflow.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.CaptureHarness.Received;
import dev.changeflow.capture.snapshot.BackfillStatus;
import dev.changeflow.capture.snapshot.Backfills;
import dev.changeflow.config.Settings;
import dev.changeflow.router.Op;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** A backfill of 100k rows under continuous writes, with capture killed by SIGKILL twice while it runs. */
class BackfillCrashIT {
    private static final int ROWS = 100_000;
    private static final int CHUNK = 1_000;

    @Test
    void aBackfillKilledTwiceResumesAtItsLastChunkAndLeavesTheStateTopicEqualToTheTable() throws Exception {
        Path logs = Files.createDirectories(Path.of("target", "backfill-crash-logs"));
        try (CaptureHarness h = new CaptureHarness().with("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data")
                .with("CHANGEFLOW_CAPTURE_SNAPSHOT_CHUNK_SIZE", Integer.toString(CHUNK))) {
            List<String> original = new ArrayList<>();
            UUID project;
            try (Connection c = h.sql()) {
                project = Rows.project(c, Rows.organization(c, "org"), "Backfilled");
                Rows.execute(c, "INSERT INTO app.tasks (project_id, title) SELECT ?, 'task ' || n "
                        + "FROM generate_series(1, " + ROWS + ") n", project);
                try (var s = c.createStatement(); var rs = s.executeQuery("SELECT id FROM app.tasks")) {
                    while (rs.next()) {
                        original.add(rs.getString(1));
                    }
                }
            }
            List<CaptureProcess> processes = new ArrayList<>();
            Set<String> deleted = ConcurrentHashMap.newKeySet();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
            try (Connection c = h.sql()) {
                processes.add(CaptureProcess.startStreaming(h, logs.resolve("capture-0.log")));
                // The application goes on: retitles backfilled rows, inserts and deletes, while the backfill runs.
                writer.scheduleAtFixedRate(() -> {
                    try {
                        String id = original.get(ThreadLocalRandom.current().nextInt(original.size()));
                        int dice = ThreadLocalRandom.current().nextInt(10);
                        if (dice < 6) {
                            Rows.execute(c, "UPDATE app.tasks SET title = ? WHERE id = ?::uuid",
                                    "w" + UUID.randomUUID(), id);
                        } else if (dice < 8) {
                            Rows.task(c, project, "new " + UUID.randomUUID(), null);
                        } else {
                            Rows.execute(c, "DELETE FROM app.tasks WHERE id = ?::uuid", id);
                            deleted.add(id);
                        }
                    } catch (Exception e) {
                        failure.compareAndSet(null, e);
                    }
                }, 0, 5, TimeUnit.MILLISECONDS);

                Backfills backfills = Backfills.from(Settings.of(h.settings()));
                backfills.start("tasks", Optional.empty(), OptionalInt.empty());
                for (int kill = 1; kill <= 2; kill++) {
                    int reached = kill * ROWS / 3;
                    h.awaitEvents(events -> reads(events) >= reached, Duration.ofMinutes(3));
                    processes.get(processes.size() - 1).kill();
                    processes.add(CaptureProcess.startStreaming(h, logs.resolve("capture-" + kill + ".log")));
                }
                BackfillStatus done = await("the backfill is done").atMost(Duration.ofMinutes(3))
                        .pollInterval(Duration.ofSeconds(1)).until(() -> backfills.status().get(0),
                                s -> s.state() == BackfillStatus.State.DONE);
                writer.shutdown();
                assertThat(writer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
                assertThat(failure.get()).as("a write failed").isNull();

                Map<String, String> table = titles(c);
                await("every committed change in the state topic").atMost(Duration.ofMinutes(2))
                        .pollInterval(Duration.ofSeconds(2))
                        .untilAsserted(() -> assertThat(titlesOf(StateTopicReader.read(h.kafka.bootstrapServers(),
                                h.id + ".task.state"))).isEqualTo(table));

                List<Received> received = h.awaitEvents(events -> true, Duration.ofSeconds(10));
                Map<String, Long> readsPerRow = received.stream().map(Received::event)
                        .filter(e -> e.op() == Op.READ && e.table().equals("tasks"))
                        .collect(Collectors.groupingBy(e -> e.key().get("id").toString(), Collectors.counting()));
                Set<String> expected = original.stream().filter(id -> !deleted.contains(id))
                        .collect(Collectors.toSet());
                assertThat(readsPerRow.keySet()).as("every backfilled row not deleted meanwhile was read")
                        .containsAll(expected);
                long reRead = readsPerRow.values().stream().mapToLong(n -> n - 1).sum();
                long chunksReRead = (reRead + CHUNK - 1) / CHUNK;
                System.out.printf("Backfill of %d rows, 2 SIGKILLs: %d rows re-read (%d chunks of %d), status %s%n",
                        ROWS, reRead, chunksReRead, CHUNK, done);
                assertThat(chunksReRead).as("chunks read again after the two kills (at most the one in hand each)")
                        .isLessThanOrEqualTo(2);
                assertThat(processes.get(processes.size() - 1).terminate()).isEqualTo(143);
            } finally {
                writer.shutdownNow();
                processes.forEach(CaptureProcess::close);
            }
        }
    }

    private static long reads(List<Received> events) {
        return events.stream().filter(r -> r.event().op() == Op.READ).count();
    }

    private static Map<String, String> titles(Connection c) throws Exception {
        Map<String, String> out = new HashMap<>();
        try (var s = c.createStatement(); var rs = s.executeQuery("SELECT id, title FROM app.tasks")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getString(2));
            }
        }
        return out;
    }

    private static Map<String, String> titlesOf(StateTopicReader.Copy copy) {
        return copy.rows().entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
                e -> (String) e.getValue().after().get("title"), (a, b) -> b, HashMap::new));
    }
}
