package dev.changeflow.invalidator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.invalidator.internal.InvalidatorMetrics;
import dev.changeflow.stack.AppRows;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * Two invalidators in one consumer group split the partitions; when one stops while the application keeps writing,
 * the other takes all partitions over and no change is left unhandled.
 *
 * <p>To tell every change apart, the rules here key a task by its title too ({@code <id>:task:{id}:{title}}) and every
 * write gives a different task a title of its own: write n makes exactly one key stale, {@code task:<t>:w<n>}, which
 * no other change names. All those keys are cached before the writes start, so a key still there at the end is a
 * change that was lost.
 */
class ScaleOutIT {
    private static final int WRITES = 3_000;
    /** One write every 2 ms: the writes last about six seconds, long enough to stop an instance in the middle. */
    private static final long WRITE_PERIOD_MICROS = 2_000;
    private static final Duration TIMEOUT = Duration.ofSeconds(45);

    @Test
    void twoInstancesSplitThePartitionsAndTheSurvivorTakesOverWithoutLosingAChange() throws Exception {
        try (InvalidatorHarness h = new InvalidatorHarness()) {
            h.rules("""
                    tables:
                      tasks:
                        - "%1$s:task:{id}:{title}"
                      projects:
                        - "%1$s:project:{id}"
                    """.formatted(h.id));
            h.startCapture();
            Set<TopicPartition> all = h.partitions();
            assertThat(all).hasSize(12);

            List<UUID> tasks = new ArrayList<>();
            for (int i = 0; i < WRITES; i++) {
                tasks.add(UUID.randomUUID());
            }
            List<String> createdKeys = tasks.stream().map(t -> h.taskKey(t) + ":created").toList();
            h.seed(createdKeys);
            try (Connection c = h.sql()) {
                UUID project = UUID.randomUUID();
                AppRows.project(c, project, AppRows.organization(c));
                AppRows.tasks(c, tasks, project);
            }
            List<String> writeKeys = new ArrayList<>();
            for (int n = 0; n < WRITES; n++) {
                writeKeys.add(h.taskKey(tasks.get(n)) + ":w" + n);
            }
            h.seed(writeKeys);

            SimpleMeterRegistry metersA = new SimpleMeterRegistry();
            SimpleMeterRegistry metersB = new SimpleMeterRegistry();
            InvalidatorService a = h.startInvalidator(metersA);
            await("A holds every partition").atMost(TIMEOUT).until(() -> a.subscription().assignment(), all::equals);
            h.awaitGone(createdKeys, TIMEOUT);

            InvalidatorService b = h.startInvalidator(metersB);
            await("A and B split the partitions").atMost(TIMEOUT).untilAsserted(() -> {
                Set<TopicPartition> ofA = a.subscription().assignment();
                Set<TopicPartition> ofB = b.subscription().assignment();
                assertThat(ofA).as("A's partitions").isNotEmpty();
                assertThat(ofB).as("B's partitions").isNotEmpty();
                assertThat(Collections.disjoint(ofA, ofB)).as("A's %s and B's %s are disjoint", ofA, ofB).isTrue();
                Set<TopicPartition> union = new HashSet<>(ofA);
                union.addAll(ofB);
                assertThat(union).isEqualTo(all);
            });

            AtomicInteger written = new AtomicInteger();
            AtomicReference<Throwable> writeFailure = new AtomicReference<>();
            ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
            try (Connection c = h.sql()) {
                ScheduledFuture<?> writes = writer.scheduleAtFixedRate(() -> {
                    int n = written.get();
                    if (n >= WRITES || writeFailure.get() != null) {
                        return;
                    }
                    try {
                        AppRows.retitle(c, tasks.get(n), "w" + n);
                        written.incrementAndGet();
                    } catch (SQLException | RuntimeException e) {
                        writeFailure.set(e);
                    }
                }, 0, WRITE_PERIOD_MICROS, TimeUnit.MICROSECONDS);

                await("a third of the writes").atMost(TIMEOUT).until(() -> written.get() >= WRITES / 3
                        || writeFailure.get() != null);
                b.close();
                assertThat(written.get()).as("B stopped while writes went on").isLessThan(WRITES);
                await("A takes over every partition").atMost(TIMEOUT)
                        .until(() -> a.subscription().assignment(), all::equals);
                await("all writes").atMost(TIMEOUT).until(() -> written.get() >= WRITES
                        || writeFailure.get() != null);
                writes.cancel(false);
                assertThat(writeFailure.get()).as("write failure").isNull();
            } finally {
                writer.shutdownNow();
            }

            h.awaitGone(writeKeys, TIMEOUT);
            await("consumer group lag back to 0").atMost(TIMEOUT).pollInterval(Duration.ofMillis(200))
                    .until(() -> h.lag().total(), lag -> lag == 0);
            assertThat(h.deadLetters()).as("records on the dead-letter topics").isZero();
            assertThat(metersA.get(InvalidatorMetrics.KEYS_UNLINKED).counter().count()).as("keys A deleted")
                    .isPositive();
            assertThat(metersB.get(InvalidatorMetrics.KEYS_UNLINKED).counter().count()).as("keys B deleted")
                    .isPositive();
        }
    }
}
