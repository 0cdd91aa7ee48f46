package dev.changeflow.capture;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.UUID;

/** Writes application rows the way an application would: plain SQL, nothing Changeflow-specific. */
final class Rows {
    private Rows() {
    }

    static UUID organization(Connection c, String name) throws SQLException {
        return returningId(c, "INSERT INTO app.organizations (name) VALUES (?) RETURNING id", name);
    }

    static UUID project(Connection c, UUID organization, String name) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO app.projects (organization_id, name) VALUES (?, ?) RETURNING id")) {
            s.setObject(1, organization);
            s.setString(2, name);
            return single(s);
        }
    }

    static UUID task(Connection c, UUID project, String title, String description) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO app.tasks (project_id, title, description, priority, due_date) "
                        + "VALUES (?, ?, ?, 2, DATE '2026-12-24') RETURNING id")) {
            s.setObject(1, project);
            s.setString(2, title);
            s.setString(3, description);
            return single(s);
        }
    }

    static int execute(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            return s.executeUpdate();
        }
    }

    private static UUID returningId(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, arg);
            return single(s);
        }
    }

    private static UUID single(PreparedStatement s) throws SQLException {
        try (ResultSet rs = s.executeQuery()) {
            rs.next();
            return (UUID) rs.getObject(1);
        }
    }
}
