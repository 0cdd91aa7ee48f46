package dev.changeflow.invalidator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.changeflow.invalidator.internal.InvalidatorMetrics;
import dev.changeflow.invalidator.internal.RulesRevalidator;
import dev.changeflow.router.subscription.ServiceLifecycle;
import dev.changeflow.stack.AppRows;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

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

    /**
     * A rule broken by a migration. A second invalidator (its own group, rules and keys, next to the class's) has a
     * template on a column {@code sprint} that the test adds; a migration then drops the column while writes go on,
     * and later adds it back.
     */
    @Test
    void aTemplateWhoseColumnAMigrationDropsIsReportedBrokenWhileTheOtherTemplatesKeepInvalidating(@TempDir Path dir)
            throws Exception {
        String p = harness.id + ":m";
        String sprintTemplate = p + ":sprint:{sprint}:tasks";
        Path rules = Files.writeString(dir.resolve("rules.yaml"), """
                tables:
                  tasks:
                    - "%1$s:task:{id}"
                    - "%1$s:project:{project_id}:tasks"
                    - "%2$s"
                  projects:
                    - "%1$s:project:{id}"
                """.formatted(p, sprintTemplate));
        UUID project = UUID.randomUUID();
        UUID task = UUID.randomUUID();
        UUID otherTask = UUID.randomUUID();
        String taskKey = p + ":task:" + task;
        String otherTaskKey = p + ":task:" + otherTask;
        String projectTasksKey = p + ":project:" + project + ":tasks";
        String sprintKey = p + ":sprint:" + task + "-s1:tasks";
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        Queue<String> lines = new ConcurrentLinkedQueue<>();
        AppenderBase<ILoggingEvent> log = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent event) {
                lines.add(event.getFormattedMessage());
            }
        };
        Logger logger = (Logger) LoggerFactory.getLogger(RulesRevalidator.class);
        log.start();
        logger.addAppender(log);
        try (Connection c = harness.sql()) {
            AppRows.execute(c, "ALTER TABLE app.tasks ADD COLUMN sprint text");
            InvalidatorService invalidator = harness.startInvalidator(meters, Map.of(
                    "CHANGEFLOW_INVALIDATOR_RULES_FILE", rules.toString(),
                    "CHANGEFLOW_INVALIDATOR_GROUP", harness.group + "-migration"));
            try {
                List<String> keys = List.of(taskKey, otherTaskKey, projectTasksKey, sprintKey);
                harness.seed(keys);
                AppRows.project(c, project, AppRows.organization(c));
                AppRows.task(c, task, project, "planned");
                AppRows.task(c, otherTask, project, "planned too");
                AppRows.execute(c, "UPDATE app.tasks SET sprint = ? WHERE id = ?", task + "-s1", task);
                harness.awaitGone(keys, TIMEOUT);
                assertThat(brokenGauge(meters, sprintTemplate)).isZero();

                AppRows.execute(c, "ALTER TABLE app.tasks DROP COLUMN sprint");
                harness.seed(keys);
                AppRows.retitle(c, task, "planned, then migrated");
                AppRows.deleteTask(c, otherTask);

                harness.awaitGone(List.of(taskKey, otherTaskKey, projectTasksKey), TIMEOUT);
                assertThat(brokenGauge(meters, sprintTemplate)).isEqualTo(1.0);
                assertThat(brokenGauge(meters, p + ":task:{id}")).isZero();
                assertThat(harness.existing(keys)).containsExactly(sprintKey);
                assertThat(harness.deadLetters()).isZero();
                assertThat(invalidator.state()).isEqualTo(ServiceLifecycle.State.RUNNING);

                // The column is back: the template yields keys again and the gauge returns to 0.
                String sprintAgainKey = p + ":sprint:" + task + "-s2:tasks";
                harness.seed(List.of(sprintAgainKey));
                AppRows.execute(c, "ALTER TABLE app.tasks ADD COLUMN sprint text");
                AppRows.execute(c, "UPDATE app.tasks SET sprint = ? WHERE id = ?", task + "-s2", task);
                harness.awaitGone(List.of(sprintAgainKey), TIMEOUT);
                assertThat(brokenGauge(meters, sprintTemplate)).isZero();
                assertThat(harness.deadLetters()).isZero();
                // Once each: the backlog the new group read first, older than its startup, raised no false alarm.
                assertThat(lines.stream().filter(line -> line.contains(sprintTemplate)))
                        .satisfiesExactly(
                                broken -> assertThat(broken).startsWith("Cache rule broken: table app.tasks, "
                                        + "template \"" + sprintTemplate + "\": column sprint is missing"),
                                back -> assertThat(back).startsWith("Cache rule works again"));
            } finally {
                invalidator.close();
                AppRows.execute(c, "ALTER TABLE app.tasks DROP COLUMN IF EXISTS sprint");
            }
        } finally {
            logger.detachAppender(log);
        }
    }

    private static double brokenGauge(SimpleMeterRegistry meters, String template) {
        return meters.get(InvalidatorMetrics.RULES_BROKEN).tags("table", "tasks", "template", template).gauge().value();
    }
}
