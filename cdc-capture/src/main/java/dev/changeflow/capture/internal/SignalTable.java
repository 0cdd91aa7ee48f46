package dev.changeflow.capture.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/** Rows of Debezium's signalling table (id, type, data): the one place that writes them. */
public final class SignalTable {
    private SignalTable() {
    }

    /**
     * Inserts a signal into {@code signalTable} (a configured, qualified table name, never user text).
     *
     * @param data the signal's JSON data, or null
     */
    public static void insert(Connection c, String signalTable, String id, String type, String data)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO " + signalTable
                + " (id, type, data) VALUES (?, ?, ?)")) {
            s.setString(1, id);
            s.setString(2, type);
            s.setString(3, data);
            s.executeUpdate();
        }
    }
}
