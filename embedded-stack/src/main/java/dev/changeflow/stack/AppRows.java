package dev.changeflow.stack;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.UUID;

/**
 * Writes application rows the way an application would: plain SQL on the {@code app} schema, nothing
 * Changeflow-specific; for tests and the demo. Ids are chosen here, so a test can seed the cache keys of a row before
 * the row exists.
 */
public final class AppRows {
    private AppRows() {
    }

    public static UUID organization(Connection c) throws SQLException {
        UUID id = UUID.randomUUID();
        execute(c, "INSERT INTO app.organizations (id, name) VALUES (?, ?)", id, "org " + id);
        return id;
    }

    public static void project(Connection c, UUID id, UUID organization) throws SQLException {
        execute(c, "INSERT INTO app.projects (id, organization_id, name) VALUES (?, ?, ?)", id, organization,
                "project " + id);
    }

    public static void task(Connection c, UUID id, UUID project, String title) throws SQLException {
        execute(c, "INSERT INTO app.tasks (id, project_id, title) VALUES (?, ?, ?)", id, project, title);
    }

    /** Inserts every task of {@code ids} into {@code project} in one statement, titled {@code created}. */
    public static void tasks(Connection c, List<UUID> ids, UUID project) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO app.tasks (id, project_id, title) SELECT unnest(?::uuid[]), ?, 'created'")) {
            s.setArray(1, c.createArrayOf("uuid", ids.toArray()));
            s.setObject(2, project);
            s.executeUpdate();
        }
    }

    /**
     * One organization with {@code projects} projects and {@code tasks} tasks spread evenly over them (one INSERT per
     * project): the data set benchmarks update. Returns the task ids.
     */
    public static List<UUID> projectsWithTasks(Connection c, int projects, int tasks) throws SQLException {
        UUID organization = organization(c);
        List<UUID> projectIds = new java.util.ArrayList<>();
        for (int p = 0; p < projects; p++) {
            UUID project = UUID.randomUUID();
            project(c, project, organization);
            projectIds.add(project);
        }
        List<UUID> taskIds = new java.util.ArrayList<>();
        for (int i = 0; i < tasks; i++) {
            taskIds.add(UUID.randomUUID());
        }
        for (int p = 0; p < projects; p++) {
            tasks(c, taskIds.subList(p * tasks / projects, (p + 1) * tasks / projects), projectIds.get(p));
        }
        return taskIds;
    }

    public static int retitle(Connection c, UUID task, String title) throws SQLException {
        return execute(c, "UPDATE app.tasks SET title = ?, updated_at = now() WHERE id = ?", title, task);
    }

    public static int move(Connection c, UUID task, UUID toProject) throws SQLException {
        return execute(c, "UPDATE app.tasks SET project_id = ?, updated_at = now() WHERE id = ?", toProject, task);
    }

    public static int deleteProject(Connection c, UUID project) throws SQLException {
        return execute(c, "DELETE FROM app.projects WHERE id = ?", project);
    }

    public static int deleteTask(Connection c, UUID task) throws SQLException {
        return execute(c, "DELETE FROM app.tasks WHERE id = ?", task);
    }

    public static int renameProject(Connection c, UUID project, String name) throws SQLException {
        return execute(c, "UPDATE app.projects SET name = ?, updated_at = now() WHERE id = ?", name, project);
    }

    public static int execute(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            return s.executeUpdate();
        }
    }
}
