package dev.changeflow.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

    /**
     * Returns why the connected user cannot open a replication connection, or empty if it has the REPLICATION
     * privilege (or is a superuser).
     */
    public static Optional<String> replicationPrivilegeProblem(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery(
                        "SELECT current_user, rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user")) {
            rs.next();
            if (rs.getBoolean(2)) {
                return Optional.empty();
            }
            String user = rs.getString(1);
            return Optional.of("user '" + user + "' lacks the REPLICATION privilege needed to read a replication "
                    + "slot: run ALTER ROLE " + user + " WITH REPLICATION");
        }
    }

    /**
     * Returns, for each of {@code tables} (schema-qualified), why it cannot be captured with complete before-images:
     * it does not exist, or its replica identity is not FULL. Empty if every table is fine.
     */
    public static List<String> replicaIdentityProblems(Connection connection, List<String> tables)
            throws SQLException {
        List<String> problems = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement("SELECT c.relreplident::text FROM pg_class c "
                + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?")) {
            for (String table : tables) {
                String[] parts = table.split("\\.", 2);
                statement.setString(1, parts[0]);
                statement.setString(2, parts[1]);
                try (ResultSet rs = statement.executeQuery()) {
                    if (!rs.next()) {
                        problems.add("table " + table + " does not exist (have the migrations been applied?)");
                    } else if (!"f".equals(rs.getString(1))) {
                        problems.add("table " + table + " has REPLICA IDENTITY " + IDENTITIES.get(rs.getString(1))
                                + " but capture needs FULL for complete before-images: run ALTER TABLE " + table
                                + " REPLICA IDENTITY FULL");
                    }
                }
            }
        }
        return problems;
    }

    private static final Map<String, String> IDENTITIES =
            Map.of("d", "DEFAULT", "n", "NOTHING", "i", "USING INDEX", "f", "FULL");

    private static String show(Connection connection, String parameter) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SHOW " + parameter)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
