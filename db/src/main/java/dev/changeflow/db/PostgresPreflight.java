package dev.changeflow.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * Checks that a Postgres server can feed Changeflow, each returning a problem that says what to change. Stateless;
 * every method runs on the caller's connection and leaves it open.
 */
public final class PostgresPreflight {
    private PostgresPreflight() {
    }

    /**
     * Returns why the server cannot do logical decoding, or empty if {@code wal_level} is {@code logical}.
     *
     * @throws SQLException if the setting cannot be read
     */
    public static Optional<String> walLevelProblem(Connection connection) throws SQLException {
        String level = show(connection, "wal_level");
        if ("logical".equalsIgnoreCase(level)) {
            return Optional.empty();
        }
        return Optional.of("wal_level is '" + level + "' but change capture needs wal_level=logical: set it in "
                + "postgresql.conf (or with ALTER SYSTEM SET wal_level = logical) and restart Postgres");
    }

    private static String show(Connection connection, String parameter) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SHOW " + parameter)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
