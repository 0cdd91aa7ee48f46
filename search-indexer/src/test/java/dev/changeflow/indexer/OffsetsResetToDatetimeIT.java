package dev.changeflow.indexer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changeflow.router.ops.ConsumerOffsets;
import dev.changeflow.router.ops.ConsumerOffsets.PartitionChange;
import dev.changeflow.router.ops.ConsumerOffsets.Plan;
import dev.changeflow.router.ops.ConsumerOffsets.Target;
import dev.changeflow.router.topics.ConsumerLag;
import dev.changeflow.stack.AppRows;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * An operator resets the search indexer's group to a point in time ({@code changeflow offsets reset --to-datetime}):
 * the indexer processes again what was published from then on, and the index still equals the database. Real
 * Postgres, capture, Kafka and the Lucene engine.
 */
class OffsetsResetToDatetimeIT {
    private static final Duration CONVERGES = SearchBehaviour.CONVERGES;

    /** The end offset of every partition of the harness's topics, read from the broker. */
    private static Map<TopicPartition, Long> ends(IndexerHarness h) throws Exception {
        Map<TopicPartition, Long> ends = new HashMap<>();
        ConsumerLag.of(h.admin, h.id + "-nobody", h.topics()).partitions()
                .forEach(p -> ends.put(p.partition(), p.end()));
        return ends;
    }

    /** Records (not offsets) of the harness's topics at or after {@code from} (a partition not in it: all). */
    private static long recordsFrom(IndexerHarness h, Map<TopicPartition, Long> from) {
        return java.util.stream.Stream.of("tasks", "projects").flatMap(table -> h.records(table).stream())
                .filter(r -> r.offset() >= from.getOrDefault(new TopicPartition(r.topic(), r.partition()), 0L))
                .count();
    }

    private static double processed(SimpleMeterRegistry registry) {
        return registry.find("changeflow.subscription.records").tag("outcome", "processed").counters().stream()
                .mapToDouble(c -> c.count()).sum();
    }

    @Test
    void afterAResetToADatetimeTheIndexerProcessesAgainFromThatPointAndTheIndexStillEqualsTheDatabase()
            throws Exception {
        try (IndexerHarness h = IndexerHarness.lucene()) {
            h.startCapture();
            IndexerService first = h.startIndexer();
            List<UUID> projects = new ArrayList<>();
            List<UUID> tasks = new ArrayList<>();
            try (Connection c = h.sql()) {
                UUID organization = AppRows.organization(c);
                for (int i = 0; i < 4; i++) {
                    UUID p = UUID.randomUUID();
                    AppRows.project(c, p, organization);
                    projects.add(p);
                }
                for (int i = 0; i < 40; i++) {
                    UUID t = UUID.randomUUID();
                    AppRows.task(c, t, projects.get(i % 4), "first phase task " + i);
                    tasks.add(t);
                }
                for (int i = 0; i < 10; i++) {
                    AppRows.retitle(c, tasks.get(i), "first phase retitle " + i);
                }
                AppRows.deleteTask(c, tasks.remove(39));
            }
            h.awaitIndexEqualsDatabase(first, CONVERGES);
            h.awaitCaughtUp(CONVERGES);
            Map<TopicPartition, Long> endsBefore = ends(h);
            Instant resetPoint = Instant.now();

            try (Connection c = h.sql()) {
                for (int i = 0; i < 10; i++) {
                    UUID t = UUID.randomUUID();
                    AppRows.task(c, t, projects.get(i % 4), "second phase task " + i);
                    tasks.add(t);
                }
                for (int i = 0; i < 20; i++) {
                    AppRows.retitle(c, tasks.get(i), "second phase retitle " + i);
                }
                AppRows.execute(c, "UPDATE app.tasks SET status = 'done' WHERE id = ?", tasks.get(20));
                AppRows.move(c, tasks.get(21), projects.get(1));
                AppRows.renameProject(c, projects.get(2), "Renamed in the second phase");
                AppRows.deleteTask(c, tasks.remove(22));
                AppRows.deleteTask(c, tasks.remove(45));
                AppRows.deleteProject(c, projects.remove(3));
            }
            h.awaitIndexEqualsDatabase(first, CONVERGES);
            h.awaitCaughtUp(CONVERGES);
            Map<TopicPartition, Long> endsAfter = ends(h);
            long sinceResetPoint = endsAfter.values().stream().mapToLong(Long::longValue).sum()
                    - endsBefore.values().stream().mapToLong(Long::longValue).sum();
            assertThat(sinceResetPoint).as("offsets published after the reset point").isGreaterThan(30);
            first.close();

            ConsumerOffsets offsets = ConsumerOffsets.of(h.admin);
            long moved = 0;
            for (String topic : h.topics()) {
                Plan plan = offsets.plan(h.group, topic, Target.toDatetime(resetPoint));
                assertThat(plan.groupActive()).as("the indexer stopped").isFalse();
                for (PartitionChange p : plan.partitions()) {
                    // A partition that never had a record has nothing committed either.
                    assertThat(p.current().orElse(0)).as(p.partition() + " committed at its end")
                            .isEqualTo(endsAfter.get(p.partition()));
                    assertThat(p.target()).as(p.partition() + ": the first offset published after the reset point")
                            .isEqualTo(endsBefore.get(p.partition()));
                }
                assertThat(plan.partitions()).anySatisfy(p -> assertThat(p.target())
                        .isLessThan(p.current().orElse(0)));
                offsets.apply(plan);
                moved -= plan.changeTotal();
            }
            assertThat(moved).isEqualTo(sinceResetPoint);
            assertThat(h.lag().total()).isEqualTo(sinceResetPoint);

            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            IndexerService second = h.startIndexer(registry);
            h.awaitCaughtUp(CONVERGES);

            h.awaitIndexEqualsDatabase(second, Duration.ofSeconds(5));
            // Offsets count capture's transaction markers too; the indexer processes records.
            long recordsSinceResetPoint = recordsFrom(h, endsBefore);
            long recordsInAll = recordsFrom(h, Map.of());
            assertThat(processed(registry)).as("records processed again: those after the reset point, not before")
                    .isGreaterThanOrEqualTo(recordsSinceResetPoint).isLessThan(recordsInAll);
            assertThat(SearchBehaviour.count(registry, "applied")).as("documents changed by the replay").isZero();
            // Fewer document writes than records: a batch writes each document once, at its newest change.
            assertThat(SearchBehaviour.count(registry, "duplicate") + SearchBehaviour.count(registry, "stale"))
                    .as("replayed writes recognised and ignored").isPositive();
            assertThat(h.deadLetters()).isZero();
        }
    }
}
