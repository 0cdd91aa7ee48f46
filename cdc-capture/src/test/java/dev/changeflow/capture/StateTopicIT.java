package dev.changeflow.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import dev.changeflow.capture.testing.StateTopicReader;
import org.junit.jupiter.api.Test;

/** The compacted state topic: the latest row per key, written in the same transaction as the change topic. */
class StateTopicIT {

    @Test
    void afterCompactionUnderWritesWithDeletesALateReaderRebuildsExactlyTheTable() throws Exception {
        try (CaptureHarness h = new CaptureHarness()
                // Compaction forced: segments roll every second, records and tombstones may go at once.
                .with("CHANGEFLOW_CAPTURE_STATE_SEGMENT", "1s")
                .with("CHANGEFLOW_CAPTURE_STATE_MIN_COMPACTION_LAG", "0s")
                .with("CHANGEFLOW_CAPTURE_STATE_DELETE_RETENTION", "1s")) {
            String stateTopic = h.id + ".task.state";
            h.startCapture();
            List<UUID> live = new CopyOnWriteArrayList<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong writes = new AtomicLong();
            ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
            try (Connection c = h.sql()) {
                UUID project = Rows.project(c, Rows.organization(c, "org"), "State");
                writer.scheduleAtFixedRate(() -> {
                    try {
                        int dice = ThreadLocalRandom.current().nextInt(10);
                        if (live.size() < 40 || dice < 3) {
                            live.add(Rows.task(c, project, "t" + UUID.randomUUID(), null));
                        } else if (dice < 5) {
                            UUID gone = live.remove(ThreadLocalRandom.current().nextInt(live.size()));
                            Rows.execute(c, "DELETE FROM app.tasks WHERE id = ?", gone);
                        } else {
                            UUID task = live.get(ThreadLocalRandom.current().nextInt(live.size()));
                            Rows.execute(c, "UPDATE app.tasks SET title = ? WHERE id = ?", "t" + UUID.randomUUID(),
                                    task);
                        }
                        writes.incrementAndGet();
                    } catch (Exception e) {
                        failure.compareAndSet(null, e);
                    }
                }, 0, 3, TimeUnit.MILLISECONDS);

                // Every write is one state record; once far fewer are left, the cleaner has compacted the topic.
                await("the broker compacted " + stateTopic).atMost(Duration.ofMinutes(3))
                        .pollInterval(Duration.ofSeconds(2))
                        .until(() -> StateTopicReader.read(h.kafka.bootstrapServers(), stateTopic).records()
                                < writes.get() / 2);
                writer.shutdown();
                assertThat(writer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
                assertThat(failure.get()).as("a write failed").isNull();

                Map<String, String> table = StateTopicReader.titlesInDatabase(c);
                await("the state topic has every committed change").atMost(Duration.ofSeconds(60))
                        .untilAsserted(() -> assertThat(StateTopicReader.read(h.kafka.bootstrapServers(),
                                stateTopic).titles()).isEqualTo(table));
                StateTopicReader.Copy copy = StateTopicReader.read(h.kafka.bootstrapServers(), stateTopic);
                assertThat(copy.rows().keySet()).as("no deleted row").containsExactlyInAnyOrderElementsOf(
                        table.keySet());
                assertThat(copy.rows().values()).allSatisfy(e -> assertThat(e.after()).isNotNull());
            } finally {
                writer.shutdownNow();
            }
        }
    }


}
