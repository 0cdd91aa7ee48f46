package dev.changeflow.invalidator.internal;

import dev.changeflow.invalidator.internal.RulesFile.InvalidRulesException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * Checks rules against the real tables: every table in the rules exists in the schema, and every column a template
 * names exists in its table and is not an array. Stateless.
 */
public final class RulesValidator {

    /** A column as {@code information_schema.columns} describes it. */
    public record Column(String name, String dataType) {
    }

    private RulesValidator() {
    }

    /**
     * The columns of every table of {@code schema} that the connected user may see, in table order, from
     * {@code information_schema.columns}.
     *
     * @return per table name, its columns in ordinal order; empty if the schema does not exist or has no tables
     */
    public static Map<String, List<Column>> columnsOf(Connection connection, String schema) throws SQLException {
        Map<String, List<Column>> tables = new LinkedHashMap<>();
        try (PreparedStatement s = connection.prepareStatement(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                        + "WHERE table_schema = ? ORDER BY table_name, ordinal_position")) {
            s.setString(1, schema);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    tables.computeIfAbsent(rs.getString(1), t -> new ArrayList<>())
                            .add(new Column(rs.getString(2), rs.getString(3)));
                }
            }
        }
        return tables;
    }

    /**
     * The server's WAL position now, as an unsigned 64-bit LSN: where it writes on a primary, where it has replayed to
     * on a standby. Read before {@link #columnsOf}, it is a position no later than the columns read.
     *
     * @return empty if the server has none to give (a standby that has replayed nothing)
     */
    public static OptionalLong walPosition(Connection connection) throws SQLException {
        try (PreparedStatement s = connection.prepareStatement("SELECT (CASE WHEN pg_is_in_recovery() "
                + "THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::text");
                ResultSet rs = s.executeQuery()) {
            String lsn = rs.next() ? rs.getString(1) : null;
            // Numeric text, up to 2^64 - 1: parsed unsigned, as change events carry it.
            return lsn == null ? OptionalLong.empty() : OptionalLong.of(Long.parseUnsignedLong(lsn));
        }
    }

    /**
     * Checks {@code rules} against {@code tables}.
     *
     * @param schema the schema the tables are in, for messages
     * @param tables per table, its columns, as {@link #columnsOf} gives them
     * @throws InvalidRulesException with the first problem on one line, naming the rules' source, the table, the
     *     template and the unknown column, and listing the columns (or tables) that do exist; if there are more
     *     problems, the line ends with how many
     */
    public static void check(InvalidationRules rules, String schema, Map<String, List<Column>> tables) {
        List<String> problems = problems(rules, schema, tables);
        if (!problems.isEmpty()) {
            String more = problems.size() == 1 ? ""
                    : " (and " + (problems.size() - 1) + " more problem" + (problems.size() > 2 ? "s" : "") + ")";
            throw new InvalidRulesException(rules.source(), problems.get(0) + more);
        }
    }

    /** Every problem of {@code rules} against {@code tables}, in file order; empty if there is none. */
    public static List<String> problems(InvalidationRules rules, String schema, Map<String, List<Column>> tables) {
        List<String> problems = new ArrayList<>();
        rules.templates().forEach((table, templates) -> {
            List<Column> columns = tables.get(table);
            if (columns == null) {
                problems.add("table " + table + " does not exist in schema " + schema + "; its tables are "
                        + (tables.isEmpty() ? "none (is the schema migrated?)" : String.join(", ", tables.keySet())));
                return;
            }
            Map<String, Column> byName = columns.stream()
                    .collect(Collectors.toMap(Column::name, c -> c, (a, b) -> a, LinkedHashMap::new));
            for (KeyTemplate template : templates) {
                for (String column : template.columns()) {
                    Column found = byName.get(column);
                    String where = "table " + table + ", template \"" + template + "\": ";
                    if (found == null) {
                        problems.add(where + "column " + column + " does not exist in " + schema + "." + table
                                + "; its columns are " + String.join(", ", byName.keySet()));
                    } else if ("ARRAY".equals(found.dataType())) {
                        problems.add(where + "column " + column + " is an array, which cannot name one key");
                    }
                }
            }
        });
        return problems;
    }
}
