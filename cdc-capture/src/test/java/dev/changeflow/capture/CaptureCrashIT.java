package dev.changeflow.capture;

import dev.changeflow.capture.testing.MainProcess;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.CaptureHarness.Received;
import dev.changeflow.router.ChangeEvent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Capture as a separate process, killed with SIGKILL mid-stream and restarted, while an application keeps writing. */
class CaptureCrashIT {
    private static final int KILLS = 3;


    @Test
    void afterRepeatedSigkillsEveryCommittedChangeIsPresentAndDuplicatesAreRedeliveries() throws Exception {
        Path logs = Files.createDirectories(Path.of("target", "capture-crash-logs"));
        try (CaptureHarness h = new CaptureHarness(); Connection writerConnection = h.sql()) {
            UUID project = Rows.project(writerConnection, Rows.organization(writerConnection, "crash"), "Crash");
            List<UUID> tasks = new CopyOnWriteArrayList<>();
            Set<String> committed = ConcurrentHashMap.newKeySet(); // "<task id>|<title>" of every committed write
            List<Process> processes = new ArrayList<>();
            ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
            try {
                for (int round = 0; round < KILLS; round++) {
                    Process capture = startCaptureProcess(h, logs.resolve("capture-" + round + ".log"));
                    processes.add(capture);
                    if (round == 0) {
                        // Writes start once the slot exists: what is committed before it is only in the snapshot.
                        writer.scheduleAtFixedRate(() -> write(writerConnection, project, tasks, committed), 0, 2,
                                TimeUnit.MILLISECONDS);
                        // The first stored offset records that the snapshot is done, so no restart redoes it.
                        awaitOffsetsStored(h);
                    }
                    int before = h.awaitCount(0, Duration.ofSeconds(5)).size();
                    h.awaitCount(before + 300, Duration.ofSeconds(90)); // streaming, mid-flow
                    capture.destroyForcibly(); // SIGKILL
                    assertThat(capture.waitFor(30, TimeUnit.SECONDS)).isTrue();
                }
                Process last = startCaptureProcess(h, logs.resolve("capture-final.log"));
                processes.add(last);
                writer.shutdown();
                assertThat(writer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

                List<Received> received;
                try {
                    received = h.awaitEvents(events -> seen(events).containsAll(committed), Duration.ofMinutes(2));
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    Set<String> missing = new java.util.HashSet<>(committed);
                    List<Received> all = h.awaitCount(0, Duration.ofSeconds(5));
                    missing.removeAll(seen(all));
                    Set<String> missingIds = missing.stream().map(m -> m.split("\\|")[0]).collect(Collectors.toSet());
                    System.err.println("ops received: " + all.stream().collect(Collectors.groupingBy(
                            r -> r.event().op(), Collectors.counting())));
                    all.stream().filter(r -> missingIds.contains(String.valueOf(r.event().key().get("id"))))
                            .limit(20).forEach(r -> System.err.println("  " + r.event().op() + " "
                                    + r.event().after().get("title") + " lsn=" + r.event().source().lsn()
                                    + " snap=" + r.event().source().snapshot() + " p" + r.partition() + "@"
                                    + r.offset()));
                    throw new AssertionError(missing.size() + " of " + committed.size() + " committed changes missing,"
                            + " e.g. " + missing.stream().limit(5).toList() + "; logs in " + logs.toAbsolutePath(), e);
                }

                assertThat(committed).hasSizeGreaterThan(1000);
                assertThat(seen(received)).containsAll(committed);
                Map<String, List<ChangeEvent>> byEventId = received.stream().map(Received::event)
                        .collect(Collectors.groupingBy(ChangeEvent::eventId));
                assertThat(byEventId.values()).as("every duplicate is a redelivery of the same event")
                        .allSatisfy(copies -> assertThat(Set.copyOf(copies)).hasSize(1));
                last.destroy(); // SIGTERM: a clean stop
                assertThat(last.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(last.exitValue()).as("JVM exit status after SIGTERM").isEqualTo(143);
            } finally {
                writer.shutdownNow();
                processes.forEach(Process::destroyForcibly);
            }
        }
    }

    private static void awaitOffsetsStored(CaptureHarness h) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", h.kafka.bootstrapServers()))) {
            TopicPartition offsets = new TopicPartition(h.id + ".offsets", 0);
            await("capture's first offset stored in " + offsets).atMost(Duration.ofSeconds(60)).until(() ->
                    admin.listOffsets(Map.of(offsets, OffsetSpec.latest())).all().get().get(offsets).offset() > 0);
        }
    }

    private static void write(Connection c, UUID project, List<UUID> tasks, Set<String> committed) {
        try {
            if (tasks.size() < 50 || ThreadLocalRandom.current().nextInt(4) == 0) {
                String title = "v0";
                UUID task = Rows.task(c, project, title, null);
                tasks.add(task);
                committed.add(task + "|" + title);
            } else {
                UUID task = tasks.get(ThreadLocalRandom.current().nextInt(tasks.size()));
                String title = "v" + UUID.randomUUID();
                Rows.execute(c, "UPDATE app.tasks SET title = ? WHERE id = ?", title, task);
                committed.add(task + "|" + title);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Set<String> seen(List<Received> events) {
        return events.stream().filter(r -> r.event().table().equals("tasks") && r.event().after() != null)
                .map(r -> r.event().after().get("id") + "|" + r.event().after().get("title"))
                .collect(Collectors.toSet());
    }

    private static Process startCaptureProcess(CaptureHarness h, Path log) throws Exception {
        Process process = MainProcess.start(CaptureMain.class, h.settings(), log, null);
        try {
            h.awaitSlotActive();
        } catch (RuntimeException e) {
            throw new AssertionError("capture process did not start; its log:\n"
                    + Files.readString(log, StandardCharsets.UTF_8), e);
        }
        return process;
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
                + "allowed: one of initial, no_data");
    }
}
