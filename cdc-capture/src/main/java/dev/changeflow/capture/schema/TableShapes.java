package dev.changeflow.capture.schema;

import dev.changeflow.router.schema.ColumnShape;
import dev.changeflow.router.schema.TableShape;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a table's row shape from the Postgres catalog ({@code pg_attribute}, {@code pg_type}, {@code pg_attrdef},
 * {@code pg_index}), as seen by the connection's transaction: inside a transaction that altered the table, the
 * altered shape. Stateless.
 */
public final class TableShapes {
    private static final String COLUMNS = """
            SELECT a.attnum, a.attname, t.typname, a.atttypmod, NOT a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid)
              FROM pg_attribute a
              JOIN pg_class c ON c.oid = a.attrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace
              JOIN pg_type t ON t.oid = a.atttypid
              LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum""";
    private static final String PRIMARY_KEY = """
            SELECT a.attname
              FROM pg_index i
              JOIN pg_class c ON c.oid = i.indrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
             WHERE n.nspname = ? AND c.relname = ? AND i.indisprimary
             ORDER BY array_position(i.indkey::int2[], a.attnum)""";
    private static final String REPLICA_IDENTITY = """
            SELECT c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = ? AND c.relname = ?""";

    private TableShapes() {
    }

    /**
     * A table as the catalog describes it.
     *
     * @param shape its row shape
     * @param columnNumbers each column's {@code attnum} (stable across a rename) to its name
     * @param replicaIdentity {@code f} (FULL), {@code d} (default), {@code n} (nothing) or {@code i} (index)
     */
    public record CatalogTable(TableShape shape, Map<Integer, String> columnNumbers, char replicaIdentity) {
        /** Whether the table logs whole old rows: {@code REPLICA IDENTITY FULL}. */
        public boolean fullReplicaIdentity() {
            return replicaIdentity == 'f';
        }
    }

    /**
     * The table {@code qualifiedTable} ({@code app.tasks}; without a schema, {@code public}), or empty if it does
     * not exist.
     *
     * @throws SQLException if the catalog cannot be read
     */
    public static Optional<CatalogTable> read(Connection connection, String qualifiedTable) throws SQLException {
        int dot = qualifiedTable.indexOf('.');
        String schema = dot < 0 ? "public" : qualifiedTable.substring(0, dot);
        String table = qualifiedTable.substring(dot + 1);
        List<ColumnShape> columns = new ArrayList<>();
        Map<Integer, String> numbers = new LinkedHashMap<>();
        try (PreparedStatement s = connection.prepareStatement(COLUMNS)) {
            s.setString(1, schema);
            s.setString(2, table);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    String type = rs.getString(3);
                    int typmod = rs.getInt(4);
                    columns.add(new ColumnShape(rs.getString(2), type, length(type, typmod), scale(type, typmod),
                            rs.getBoolean(5), rs.getString(6)));
                    numbers.put(rs.getInt(1), rs.getString(2));
                }
            }
        }
        if (columns.isEmpty()) {
            return Optional.empty();
        }
        List<String> key = new ArrayList<>();
        try (PreparedStatement s = connection.prepareStatement(PRIMARY_KEY)) {
            s.setString(1, schema);
            s.setString(2, table);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    key.add(rs.getString(1));
                }
            }
        }
        char identity = 'd';
        try (PreparedStatement s = connection.prepareStatement(REPLICA_IDENTITY)) {
            s.setString(1, schema);
            s.setString(2, table);
            try (ResultSet rs = s.executeQuery()) {
                if (rs.next()) {
                    identity = rs.getString(1).charAt(0);
                }
            }
        }
        return Optional.of(new CatalogTable(new TableShape(schema + "." + table, columns, key), numbers, identity));
    }

    /** The declared length of a varchar or bpchar, or the precision of a numeric; null if none was declared. */
    static Integer length(String type, int typmod) {
        String element = type.startsWith("_") ? type.substring(1) : type;
        if (typmod < 4) {
            return null;
        }
        return switch (element) {
            case "varchar", "bpchar" -> typmod - 4;
            case "numeric" -> ((typmod - 4) >> 16) & 0xffff;
            default -> null;
        };
    }

    /** The scale of a numeric with a declared precision, else null. */
    static Integer scale(String type, int typmod) {
        String element = type.startsWith("_") ? type.substring(1) : type;
        return element.equals("numeric") && typmod >= 4 ? (typmod - 4) & 0xffff : null;
    }
}
