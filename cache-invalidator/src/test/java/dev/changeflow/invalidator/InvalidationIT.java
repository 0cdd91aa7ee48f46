package dev.changeflow.invalidator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.invalidator.internal.InvalidatorMetrics;
import dev.changeflow.stack.AppRows;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * End to end in one JVM: application writes to Postgres, capture publishes them, the invalidator deletes the keys the
 * rules name. Every test creates rows with ids of its own, so tests share the pipeline but no key.
 *
 * <p>Each test first seeds the keys of rows that do not exist yet and creates the rows: their create events delete
 * those keys, and waiting for that proves the creates are handled, so that a later check cannot be fooled by a
 * create event arriving after the keys were seeded again.
 */
class InvalidationIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static InvalidatorHarness harness;
    private static final SimpleMeterRegistry METERS = new SimpleMeterRegistry();

    @BeforeAll
    static void startPipeline() throws Exception {
        harness = new InvalidatorHarness();
        harness.startCapture();
        harness.startInvalidator(METERS);
    }

    @AfterAll
    static void stopPipeline() throws Exception {
        harness.close();
    }

    /** Two projects of one organization, each with one task, all created and their create events handled. */
    private record World(UUID projectA, UUID projectB, UUID task, UUID otherTask) {
        List<String> keys(InvalidatorHarness h) {
            return List.of(h.projectKey(projectA), h.projectKey(projectB), h.projectTasksKey(projectA),
                    h.projectTasksKey(projectB), h.taskKey(task), h.taskKey(otherTask));
        }
    }

    private static World createWorld() throws Exception {
        World w = new World(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
        harness.seed(w.keys(harness));
        try (Connection c = harness.sql()) {
            UUID organization = AppRows.organization(c);
            AppRows.project(c, w.projectA(), organization);
            AppRows.project(c, w.projectB(), organization);
            AppRows.task(c, w.task(), w.projectA(), "write the tests");
            AppRows.task(c, w.otherTask(), w.projectB(), "untouched");
        }
        harness.awaitGone(w.keys(harness), TIMEOUT);
        harness.seed(w.keys(harness));
        return w;
    }

    @Test
    void updatingATaskDeletesItsKeyAndItsProjectListAndNothingElse() throws Exception {
        World w = createWorld();

        try (Connection c = harness.sql()) {
            assertThat(AppRows.retitle(c, w.task(), "write the tests first")).isEqualTo(1);
        }

        harness.awaitGone(List.of(harness.taskKey(w.task()), harness.projectTasksKey(w.projectA())), TIMEOUT);
        assertThat(harness.existing(w.keys(harness))).containsExactlyInAnyOrder(harness.projectKey(w.projectA()),
                harness.projectKey(w.projectB()), harness.projectTasksKey(w.projectB()),
                harness.taskKey(w.otherTask()));
    }

    @Test
    void movingATaskToAnotherProjectDeletesTheListsOfBothProjects() throws Exception {
        World w = createWorld();

        try (Connection c = harness.sql()) {
            assertThat(AppRows.move(c, w.task(), w.projectB())).isEqualTo(1);
        }

        harness.awaitGone(List.of(harness.taskKey(w.task()), harness.projectTasksKey(w.projectA()),
                harness.projectTasksKey(w.projectB())), TIMEOUT);
        assertThat(harness.existing(w.keys(harness))).containsExactlyInAnyOrder(harness.projectKey(w.projectA()),
                harness.projectKey(w.projectB()), harness.taskKey(w.otherTask()));
    }

    @Test
    void deletingATaskDeletesItsKeyAndItsProjectList() throws Exception {
        World w = createWorld();

        try (Connection c = harness.sql()) {
            assertThat(AppRows.deleteTask(c, w.task())).isEqualTo(1);
        }

        harness.awaitGone(List.of(harness.taskKey(w.task()), harness.projectTasksKey(w.projectA())), TIMEOUT);
        assertThat(harness.existing(w.keys(harness))).containsExactlyInAnyOrder(harness.projectKey(w.projectA()),
                harness.projectKey(w.projectB()), harness.projectTasksKey(w.projectB()),
                harness.taskKey(w.otherTask()));
    }

    @Test
    void renamingAProjectDeletesItsKeyButNotItsTaskList() throws Exception {
        World w = createWorld();

        try (Connection c = harness.sql()) {
            assertThat(AppRows.renameProject(c, w.projectB(), "renamed")).isEqualTo(1);
        }

        harness.awaitGone(List.of(harness.projectKey(w.projectB())), TIMEOUT);
        assertThat(harness.existing(w.keys(harness))).containsExactlyInAnyOrder(harness.projectKey(w.projectA()),
                harness.projectTasksKey(w.projectA()), harness.projectTasksKey(w.projectB()),
                harness.taskKey(w.task()), harness.taskKey(w.otherTask()));
    }

    @Test
    void everyInvalidatedChangeIsTimedFromItsCommitAndItsKeysCounted() throws Exception {
        World w = createWorld();
        long timedBefore = METERS.get(InvalidatorMetrics.COMMIT_TO_INVALIDATED).timer().count();
        double unlinkedBefore = METERS.get(InvalidatorMetrics.KEYS_UNLINKED).counter().count();

        try (Connection c = harness.sql()) {
            AppRows.retitle(c, w.task(), "timed");
        }

        harness.awaitGone(List.of(harness.taskKey(w.task())), TIMEOUT);
        await("meters updated").atMost(TIMEOUT).untilAsserted(() -> {
            var timer = METERS.get(InvalidatorMetrics.COMMIT_TO_INVALIDATED).timer();
            assertThat(timer.count()).isEqualTo(timedBefore + 1);
            assertThat(timer.max(java.util.concurrent.TimeUnit.MILLISECONDS)).isBetween(0.0, 30_000.0);
            assertThat(METERS.get(InvalidatorMetrics.KEYS_UNLINKED).counter().count())
                    .isEqualTo(unlinkedBefore + 2);
        });
    }
}
