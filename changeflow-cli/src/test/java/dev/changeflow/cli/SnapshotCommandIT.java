package dev.changeflow.cli;

import static dev.changeflow.cli.Run.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.changeflow.capture.testing.CapturedDatabase;
import dev.changeflow.router.service.AdminApi;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code changeflow snapshot} as an operator runs it, in this JVM, against a real Postgres and Kafka with capture
 * running in snapshot mode {@code no_data}, so that the only rows read are those of the backfills requested here.
 */
class SnapshotCommandIT {
    @TempDir
    Path dir;

    private Path config(Map<String, String> settings) throws Exception {
        Path file = dir.resolve("changeflow-" + System.nanoTime() + ".properties");
        Files.writeString(file, settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining("\n")));
        return file;
    }

    /** Inserts an organization and a project with {@code tasks} tasks; returns the project's id. */
    private static UUID projectWithTasks(CapturedDatabase world, int tasks) throws Exception {
        try (Connection c = world.sql()) {
            UUID organization = insertReturningId(c, "INSERT INTO app.organizations (name) VALUES ('Acme') "
                    + "RETURNING id");
            UUID project;
            try (PreparedStatement s = c.prepareStatement("INSERT INTO app.projects (organization_id, name) "
                    + "VALUES (?, 'Launch') RETURNING id")) {
                s.setObject(1, organization);
                project = single(s);
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO app.tasks (project_id, title) "
                    + "SELECT ?, 'task ' || n FROM generate_series(1, ?) n")) {
                s.setObject(1, project);
                s.setInt(2, tasks);
                assertThat(s.executeUpdate()).isEqualTo(tasks);
            }
            return project;
        }
    }

    private static UUID insertReturningId(Connection c, String sql) throws Exception {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            return single(s);
        }
    }

    private static UUID single(PreparedStatement s) throws Exception {
        try (ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getObject(1, UUID.class);
        }
    }

    private static JsonNode statusJson(String config) throws Exception {
        Run status = run(new SnapshotCommand(), "status", "--json", "--config", config);
        assertThat(status.status()).as(status.err()).isZero();
        return AdminApi.json().readTree(status.out());
    }

    private static void assertRefusedWithOneLine(Run run, String subcommand, String reason) {
        assertThat(run.status()).as(run.err()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err().lines()).singleElement().asString()
                .startsWith("changeflow snapshot " + subcommand + ": ").contains(reason);
    }

    @Test
    void badRequestsExitWith2OnOneLineAndRecordNothing() throws Exception {
        try (CapturedDatabase world = new CapturedDatabase("s")) {
            world.withCapture("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data").startCapture();
            projectWithTasks(world, 3);
            String config = config(world.captureSettings()).toString();

            assertRefusedWithOneLine(run(new SnapshotCommand(), "start", "--table", "nosuch", "--config", config),
                    "start", "unknown table 'nosuch'");
            assertRefusedWithOneLine(run(new SnapshotCommand(), "start", "--table", "organizations",
                    "--config", config), "start", "app.organizations is not captured");
            assertRefusedWithOneLine(run(new SnapshotCommand(), "start", "--table", "tasks", "--where", "nosuch = 1",
                    "--config", config), "start", "nosuch");
            assertRefusedWithOneLine(run(new SnapshotCommand(), "start", "--table", "tasks", "--where", "title = ",
                    "--config", config), "start", "is not a condition on app.tasks");
            assertRefusedWithOneLine(run(new SnapshotCommand(), "start", "--table", "tasks", "--chunk-size", "0",
                    "--config", config), "start", "--chunk-size 0 is not allowed: from 1 to 1000000");
            assertRefusedWithOneLine(run(new SnapshotCommand(), "stop", "--table", "tasks", "--config", config),
                    "stop", "no backfill of app.tasks is pending or running");

            assertThat(statusJson(config)).isEmpty();
            Run table = run(new SnapshotCommand(), "status", "--config", config);
            assertThat(table.out()).startsWith("no backfills recorded");
        }
    }

    @Test
    void aBackfillOfTheRowsAConditionSelectsRunsToDoneWhileStreamingGoesOn() throws Exception {
        try (CapturedDatabase world = new CapturedDatabase("s")) {
            world.withCapture("CHANGEFLOW_CAPTURE_SNAPSHOT_MODE", "no_data").startCapture();
            UUID project = projectWithTasks(world, 7);
            projectWithTasks(world, 4);
            String config = config(world.captureSettings()).toString();
            String where = "project_id = '" + project + "'";

            Run start = run(new SnapshotCommand(), "start", "--table", "tasks", "--where", where, "--chunk-size", "3",
                    "--wait", "--config", config);
            assertThat(start.status()).as(start.err()).isZero();
            assertThat(start.out()).contains("requested backfill", "of app.tasks: 7 rows where " + where,
                    "in chunks of 3", "done: 7 rows");

            JsonNode backfill = statusJson(config).get(0);
            assertThat(backfill.get("table").asText()).isEqualTo("app.tasks");
            assertThat(backfill.get("where").asText()).isEqualTo(where);
            assertThat(backfill.get("state").asText()).isEqualTo("done");
            assertThat(backfill.get("rows_estimate").asLong()).isEqualTo(7);
            assertThat(backfill.get("rows_done").asLong()).isEqualTo(7);
            assertThat(backfill.get("chunks_done").asLong()).isEqualTo(3);

            Run status = run(new SnapshotCommand(), "status", "--config", config);
            assertThat(status.status()).as(status.err()).isZero();
            assertThat(status.out().lines().toList()).hasSize(2);
            assertThat(status.out()).containsPattern("ID\\s+TABLE\\s+STATE\\s+ROWS\\s+CHUNKS\\s+ETA\\s+REQUESTED\\s+"
                    + "WHERE").containsPattern(backfill.get("id").asText().substring(0, 8)
                    + "\\s+app\\.tasks\\s+DONE\\s+7/7 \\(100%\\)\\s+3\\s+-\\s+\\S+Z\\s+" + where);
        }
    }

    @Test
    void aSecondBackfillOfATableWhileOneIsPendingIsRefusedAndStopEndsTheFirst() throws Exception {
        // Capture is down, so the first request stays pending: a running capture can finish a small backfill before
        // the second request reads the status, and a bigger one only makes that unlikely.
        try (CapturedDatabase world = new CapturedDatabase("s")) {
            projectWithTasks(world, 5);
            String config = config(world.captureSettings()).toString();

            Run first = run(new SnapshotCommand(), "start", "--table", "tasks", "--config", config);
            assertThat(first.status()).as(first.err()).isZero();
            assertThat(first.out()).contains("of app.tasks: 5 rows, in chunks of 2048",
                    "`changeflow snapshot status`", "`changeflow snapshot stop --table tasks`");

            Run second = run(new SnapshotCommand(), "start", "--table", "app.tasks", "--where", "true",
                    "--config", config);
            assertRefusedWithOneLine(second, "start", "a backfill of app.tasks is already pending");
            JsonNode pending = statusJson(config);
            assertThat(pending).hasSize(1);
            assertThat(pending.get(0).get("state").asText()).isEqualTo("pending");

            Run stop = run(new SnapshotCommand(), "stop", "--table", "tasks", "--config", config);
            assertThat(stop.status()).as(stop.err()).isZero();
            assertThat(stop.out()).contains("stopped backfill " + pending.get(0).get("id").asText() + " of app.tasks "
                    + "(it was pending, 0/5 (0%))");
            assertThat(statusJson(config).get(0).get("state").asText()).isEqualTo("stopped");
            assertRefusedWithOneLine(run(new SnapshotCommand(), "stop", "--table", "tasks", "--config", config),
                    "stop", "no backfill of app.tasks is pending or running");
        }
    }
}
