package dev.changeflow.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changeflow.capture.CaptureHarness.Received;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.Op;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class CaptureVolumeIT {
    private static final int PROJECTS = 100;
    private static final int PROJECT_UPDATES = 1_900;
    private static final int TASKS = 2_000;
    private static final int TASK_UPDATES = 15_000;
    private static final int TASK_DELETES = 1_000;
    private static final int TOTAL = PROJECTS + PROJECT_UPDATES + TASKS + TASK_UPDATES + TASK_DELETES;

    @Test
    void twentyThousandChangesOverManyTransactionsAllArriveInLsnOrderPerKey() throws Exception {
        Map<String, Integer> expectedPerKey = new HashMap<>();
        Random random = new Random(42);
        try (CaptureHarness h = new CaptureHarness(); Connection c = h.sql()) {
            h.with("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data").startCapture();
            c.setAutoCommit(false);
            UUID org = Rows.organization(c, "volume");
            List<UUID> projects = new ArrayList<>();
            for (int i = 0; i < PROJECTS; i++) {
                projects.add(Rows.project(c, org, "project " + i));
                expectedPerKey.merge("projects:" + projects.get(i), 1, Integer::sum);
            }
            c.commit();
            List<UUID> tasks = new ArrayList<>();
            for (int i = 0; i < TASKS; i++) {
                UUID task = Rows.task(c, projects.get(i % PROJECTS), "task " + i, "d" + i);
                tasks.add(task);
                expectedPerKey.merge("tasks:" + task, 1, Integer::sum);
                commitEvery(c, i, 50);
            }
            c.commit();
            try (PreparedStatement update = c.prepareStatement(
                    "UPDATE app.tasks SET title = ?, priority = ? WHERE id = ?");
                    PreparedStatement rename = c.prepareStatement("UPDATE app.projects SET name = ? WHERE id = ?")) {
                for (int i = 0; i < TASK_UPDATES + PROJECT_UPDATES; i++) {
                    if (i % 9 == 0 && i / 9 < PROJECT_UPDATES) {
                        UUID project = projects.get(random.nextInt(PROJECTS));
                        rename.setString(1, "renamed " + i);
                        rename.setObject(2, project);
                        rename.addBatch();
                        expectedPerKey.merge("projects:" + project, 1, Integer::sum);
                    } else {
                        UUID task = tasks.get(random.nextInt(TASKS - TASK_DELETES));
                        update.setString(1, "v" + i);
                        update.setInt(2, 1 + random.nextInt(5));
                        update.setObject(3, task);
                        update.addBatch();
                        expectedPerKey.merge("tasks:" + task, 1, Integer::sum);
                    }
                    if (i % 100 == 99) {
                        rename.executeBatch();
                        update.executeBatch();
                        c.commit();
                    }
                }
                rename.executeBatch();
                update.executeBatch();
                c.commit();
            }
            for (UUID task : tasks.subList(TASKS - TASK_DELETES, TASKS)) {
                Rows.execute(c, "DELETE FROM app.tasks WHERE id = ?", task);
                expectedPerKey.merge("tasks:" + task, 1, Integer::sum);
            }
            c.commit();
            assertThat(expectedPerKey.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(TOTAL);

            List<Received> received = h.awaitEvents(
                    events -> events.stream().map(r -> r.event().eventId()).distinct().count() >= TOTAL,
                    Duration.ofMinutes(3));

            Map<String, List<ChangeEvent>> perKey = received.stream().collect(Collectors.groupingBy(Received::key,
                    Collectors.mapping(Received::event, Collectors.toList())));
            Map<String, Integer> distinctPerKey = new HashMap<>();
            perKey.forEach((key, events) -> distinctPerKey.put(key,
                    (int) events.stream().map(ChangeEvent::eventId).distinct().count()));
            assertThat(distinctPerKey).as("changes per key, none missing").isEqualTo(expectedPerKey);
            perKey.forEach((key, events) -> {
                assertThat(events).extracting(e -> e.source().lsn()).as("LSN order of %s", key).isSorted();
                assertThat(events.get(0).op()).as("first event of %s", key).isEqualTo(Op.CREATE);
            });
        }
    }

    private static void commitEvery(Connection c, int i, int n) throws Exception {
        if (i % n == n - 1) {
            c.commit();
        }
    }
}
