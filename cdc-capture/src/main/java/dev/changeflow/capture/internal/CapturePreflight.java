package dev.changeflow.capture.internal;

import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.config.ConfigException;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.db.PostgresEndpoint;
import dev.changeflow.db.PostgresPreflight;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checks capture runs before it opens a replication slot, each failing with one line that names the setting or
 * the fix: Postgres reachable, {@code wal_level=logical}, REPLICATION privilege, REPLICA IDENTITY FULL on every captured
 * table (a warning instead when explicitly allowed), and Kafka reachable.
 */
public final class CapturePreflight {
    private static final Logger LOG = LoggerFactory.getLogger(CapturePreflight.class);

    private CapturePreflight() {
    }

    /**
     * Checks Postgres.
     *
     * @throws ConfigException naming {@code CHANGEFLOW_POSTGRES_URL} or {@code CHANGEFLOW_CAPTURE_TABLES}
     */
    public static void checkPostgres(Settings settings, PostgresEndpoint endpoint, List<String> tables) {
        String url = settings.raw(ConnectionSettings.POSTGRES_URL).orElse(endpoint.jdbcUrl());
        try (Connection connection = endpoint.connect()) {
            Optional<String> problem = PostgresPreflight.walLevelProblem(connection)
                    .or(() -> uncheck(() -> PostgresPreflight.replicationPrivilegeProblem(connection)));
            if (problem.isPresent()) {
                throw ConfigException.unusable(ConnectionSettings.POSTGRES_URL, url, problem.get());
            }
            List<String> identity = PostgresPreflight.replicaIdentityProblems(connection, tables);
            if (!identity.isEmpty()) {
                String message = String.join("; ", identity);
                if (!settings.get(CaptureSettings.ALLOW_PARTIAL_REPLICA_IDENTITY)
                        || identity.stream().anyMatch(p -> p.contains("does not exist"))) {
                    throw ConfigException.unusable(CaptureSettings.TABLES, String.join(",", tables), message
                            + (identity.stream().anyMatch(p -> p.contains("does not exist")) ? ""
                                    : " (or set CHANGEFLOW_CAPTURE_ALLOW_PARTIAL_REPLICA_IDENTITY=true to accept "
                                            + "incomplete before-images)"));
                }
                LOG.warn("{} (continuing: CHANGEFLOW_CAPTURE_ALLOW_PARTIAL_REPLICA_IDENTITY=true)", message);
            }
            for (var table : List.of(CaptureSettings.SIGNAL_TABLE, CaptureSettings.BACKFILL_TABLE)) {
                String name = settings.get(table);
                try (PreparedStatement s = connection.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
                    s.setString(1, name);
                    try (ResultSet rs = s.executeQuery()) {
                        rs.next();
                        if (!rs.getBoolean(1)) {
                            throw ConfigException.unusable(table, name, "table " + name + " does not exist: run the "
                                    + "migrations (`changeflow migrate`), which create it");
                        }
                    }
                }
            }
        } catch (SQLException e) {
            throw ConfigException.unusable(ConnectionSettings.POSTGRES_URL, url, endpoint.describe(e));
        }
    }

    private interface SqlSupplier<T> {
        T get() throws SQLException;
    }

    private static <T> T uncheck(SqlSupplier<T> supplier) {
        try {
            return supplier.get();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
