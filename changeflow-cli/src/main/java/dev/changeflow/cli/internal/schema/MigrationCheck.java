package dev.changeflow.cli.internal.schema;

import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.capture.schema.TableShapes;
import dev.changeflow.capture.schema.TableShapes.CatalogTable;
import dev.changeflow.cli.internal.schema.SchemaFinding.Kind;
import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import dev.changeflow.db.SchemaMigrations;
import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.invalidator.CacheRules;
import dev.changeflow.router.schema.ColumnShape;
import dev.changeflow.router.schema.CompatibilityMode;
import dev.changeflow.router.schema.SchemaCompatibility;
import dev.changeflow.router.schema.ShapeChange;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.flywaydb.core.api.MigrationVersion;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Applies a migration inside a transaction that it rolls back, and says what the migration does to the captured
 * tables: each difference of their shapes judged under the table's compatibility mode, the cache rules whose columns
 * it removes, the search fields it removes, and whether the tables keep REPLICA IDENTITY FULL and their identity (OID).
 * Nothing the migration does outlives {@link #check}. Immutable; one check per connection at a time.
 *
 * <pre>{@code
 * MigrationCheck check = MigrationCheck.from(settings, Timeouts.DEFAULT);
 * try (Connection c = endpoint.connect()) {
 *     List<SchemaFinding> findings = check.check(c, MigrationScript.parse(name, sql));
 * }
 * }</pre>
 */
public final class MigrationCheck {
    private static final String FLYWAY_HISTORY = SchemaMigrations.SCHEMA + ".flyway_schema_history";

    private final List<String> tables;
    private final Map<String, CompatibilityMode> modes;
    private final Map<String, Map<String, Set<String>>> cacheRules;
    private final Timeouts timeouts;

    /**
     * How long one statement of the migration may wait for a lock, and run, before the check gives up: on a database
     * in use, DDL waits behind open transactions and every query on the table then waits behind it.
     *
     * @param lock Postgres {@code lock_timeout}, such as {@code 5s}
     * @param statement Postgres {@code statement_timeout}, such as {@code 60s}
     */
    public record Timeouts(String lock, String statement) {
        /** 5 s for a lock, 60 s for a statement. */
        public static final Timeouts DEFAULT = new Timeouts("5s", "60s");
    }

    /** Why a migration cannot be checked (it fails, or it would commit): one line, without the file's name. */
    public static final class CannotCheckException extends Exception {
        private final boolean alreadyApplied;
        private final boolean rolledBack;

        CannotCheckException(String message) {
            this(message, false, true);
        }

        CannotCheckException(String message, boolean alreadyApplied, boolean rolledBack) {
            super(message);
            this.alreadyApplied = alreadyApplied;
            this.rolledBack = rolledBack;
        }

        /** Whether the reason is that Flyway's history on the database checked has the migration's version. */
        public boolean alreadyApplied() {
            return alreadyApplied;
        }

        /**
         * Whether everything the migration did was rolled back: false only when a statement ended the check's
         * transaction (which {@link MigrationScript#transactionControl()} is there to prevent).
         */
        public boolean rolledBack() {
            return rolledBack;
        }
    }

    private MigrationCheck(List<String> tables, Map<String, CompatibilityMode> modes,
            Map<String, Map<String, Set<String>>> cacheRules, Timeouts timeouts) {
        this.tables = tables;
        this.modes = modes;
        this.cacheRules = cacheRules;
        this.timeouts = timeouts;
    }

    /**
     * A check of the tables capture captures under {@code settings} ({@code CHANGEFLOW_CAPTURE_TABLES}), their
     * compatibility modes ({@code CHANGEFLOW_CAPTURE_SCHEMA_COMPATIBILITY}) and the cache invalidator's rules
     * ({@code CHANGEFLOW_INVALIDATOR_RULES_FILE}, else the default rules).
     *
     * @throws ConfigException naming the setting, if one of these is unusable
     */
    public static MigrationCheck from(Settings settings, Timeouts timeouts) {
        List<String> tables = Arrays.stream(settings.get(CaptureSettings.TABLES).split(",")).map(String::trim)
                .toList();
        Map<String, CompatibilityMode> modes = new LinkedHashMap<>();
        for (String table : tables) {
            modes.put(table, CaptureSettings.compatibility(settings, bare(table)));
        }
        return new MigrationCheck(tables, modes, CacheRules.load(settings).columnsByTemplate(), timeouts);
    }

    /** The captured tables checked, qualified, in the order of {@code CHANGEFLOW_CAPTURE_TABLES}. */
    public List<String> tables() {
        return tables;
    }

    /**
     * Applies {@code script} on {@code connection} inside a transaction, reads the captured tables before and after,
     * and rolls the transaction back (also when it fails). Leaves the connection's auto-commit as it found it.
     *
     * @return the findings, per table in {@link #tables()} order: the table itself and its replica identity, then the
     *     shape's differences in column order, then cache rules, then search fields; empty when the migration changes
     *     no captured table
     * @throws CannotCheckException if the migration starts or ends a transaction, was already applied to this
     *     database (Flyway's history says so), fails (an error, a lock or statement timeout, a statement that cannot
     *     run in a transaction), or if no captured table exists before or after it
     * @throws SQLException if the catalog cannot be read or the rollback fails
     */
    public List<SchemaFinding> check(Connection connection, MigrationScript script)
            throws SQLException, CannotCheckException {
        requireCheckable(script);
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try {
            setLocal(connection, "lock_timeout", timeouts.lock());
            setLocal(connection, "statement_timeout", timeouts.statement());
            if (script.version().isPresent()) {
                refuseIfApplied(connection, script.version().get());
            }
            long transaction = transactionId(connection);
            Map<String, Optional<TableState>> before = read(connection);
            for (MigrationScript.Statement statement : script.statements()) {
                execute(connection, statement);
                if (transactionId(connection) != transaction) {
                    throw new CannotCheckException("line " + statement.line() + " (" + statement.excerpt()
                            + ") ended the check's transaction: what ran up to it may have been committed", false,
                            false);
                }
            }
            Map<String, Optional<TableState>> after = read(connection);
            if (before.values().stream().allMatch(Optional::isEmpty)
                    && after.values().stream().allMatch(Optional::isEmpty)) {
                throw new CannotCheckException("none of the captured tables (" + String.join(", ", tables)
                        + ", CHANGEFLOW_CAPTURE_TABLES) exists in the database, before or after the migration: is "
                        + "CHANGEFLOW_POSTGRES_URL the application's database?");
            }
            List<SchemaFinding> findings = new ArrayList<>();
            for (String table : tables) {
                findings.addAll(compare(table, before.get(table), after.get(table)));
            }
            return List.copyOf(findings);
        } finally {
            connection.rollback();
            connection.setAutoCommit(autoCommit);
        }
    }

    /**
     * Refuses, before anything connects, a script that starts or ends a transaction
     * ({@link MigrationScript#transactionControl()}).
     *
     * @throws CannotCheckException naming the statement's line
     */
    public static void requireCheckable(MigrationScript script) throws CannotCheckException {
        Optional<MigrationScript.Statement> control = script.transactionControl();
        if (control.isPresent()) {
            throw new CannotCheckException("line " + control.get().line() + " (" + control.get().excerpt()
                    + ") starts or ends a transaction, which would commit the migration instead of letting the check "
                    + "roll it back; Flyway runs each migration in a transaction of its own, so leave it out");
        }
    }

    /** A captured table as the catalog shows it, with its OID (a table dropped and created again gets a new one). */
    private record TableState(CatalogTable table, long oid) {
    }

    private Map<String, Optional<TableState>> read(Connection connection) throws SQLException {
        Map<String, Optional<TableState>> states = new LinkedHashMap<>();
        for (String table : tables) {
            Optional<CatalogTable> read = TableShapes.read(connection, table);
            states.put(table, read.isEmpty() ? Optional.empty()
                    : Optional.of(new TableState(read.get(), oid(connection, table))));
        }
        return states;
    }

    private List<SchemaFinding> compare(String table, Optional<TableState> before, Optional<TableState> after) {
        List<SchemaFinding> findings = new ArrayList<>();
        String bare = bare(table);
        if (before.isEmpty() && after.isEmpty()) {
            return findings;
        }
        if (before.isEmpty()) {
            findings.add(new SchemaFinding(table, Kind.TABLE_CREATED, null, false, "table created"));
            if (!after.get().table().fullReplicaIdentity()) {
                findings.add(new SchemaFinding(table, Kind.REPLICA_IDENTITY, null, true, "table created without "
                        + "REPLICA IDENTITY FULL (" + identity(after.get().table()) + "): capture refuses to start "
                        + "on it; add ALTER TABLE " + table + " REPLICA IDENTITY FULL to the migration"));
            }
            return findings;
        }
        CatalogTable old = before.get().table();
        if (after.isEmpty()) {
            Map<String, Set<String>> rules = cacheRules.getOrDefault(bare, Map.of());
            findings.add(new SchemaFinding(table, Kind.TABLE_DROPPED, null, true, "table dropped: capture can no "
                    + "longer read it" + (rules.isEmpty() ? "" : ", its cache rules " + String.join(", ",
                    rules.keySet()) + " yield no key") + (DocumentType.ofTable(bare).isEmpty() ? ""
                    : ", its search documents are no longer updated")));
            return findings;
        }
        CatalogTable now = after.get().table();
        boolean recreated = before.get().oid() != after.get().oid();
        if (recreated) {
            findings.add(new SchemaFinding(table, Kind.TABLE_RECREATED, null, true, "table dropped and created "
                    + "again (OID " + before.get().oid() + " -> " + after.get().oid() + "): the new table is not in "
                    + "capture's publication, so its changes are not captured until capture restarts"));
        }
        if (old.fullReplicaIdentity() && !now.fullReplicaIdentity()) {
            findings.add(new SchemaFinding(table, Kind.REPLICA_IDENTITY, null, true, "REPLICA IDENTITY FULL dropped "
                    + "(now " + identity(now) + ")" + (recreated ? ": the table was created again, with the "
                    + "default identity" : "") + "; updates lose their before-image and deletes carry only the key, "
                    + "and capture refuses to start on such a table"));
        } else if (!old.fullReplicaIdentity() && now.fullReplicaIdentity()) {
            findings.add(new SchemaFinding(table, Kind.REPLICA_IDENTITY, null, false, "REPLICA IDENTITY FULL set (was "
                    + identity(old) + ")"));
        }
        // A column keeps its number (attnum) across a rename; a new table numbers its columns afresh.
        Map<String, String> renames = new LinkedHashMap<>();
        if (!recreated) {
            old.columnNumbers().forEach((number, name) -> {
                String newName = now.columnNumbers().get(number);
                if (newName != null && !newName.equals(name)) {
                    renames.put(name, newName);
                }
            });
        }
        CompatibilityMode mode = modes.get(table);
        for (ShapeChange change : SchemaCompatibility.differences(old.shape(), now.shape(), renames)) {
            findings.add(judge(table, mode, change, old, now, renames));
        }
        // The columns whose name is gone, dropped or renamed, in table order.
        Set<String> gone = old.shape().columnNames().stream()
                .filter(c -> renames.containsKey(c) || now.shape().column(c).isEmpty())
                .collect(Collectors.toCollection(LinkedHashSet::new));
        cacheRules.getOrDefault(bare, Map.of()).forEach((template, columns) -> {
            for (String column : columns) {
                if (gone.contains(column)) {
                    findings.add(new SchemaFinding(table, Kind.CACHE_RULE, column, true, "cache rule " + template
                            + " uses column " + column + ", " + goneAs(column, renames)
                            + " (the rule yields no key from then on)"));
                }
            }
        });
        DocumentType.ofTable(bare).ifPresent(type -> {
            for (String column : gone) {
                if (type.fields().containsKey(column)) {
                    findings.add(new SchemaFinding(table, Kind.SEARCH_FIELD, column, true, "search field " + column
                            + " removed" + (renames.containsKey(column) ? " (column renamed to "
                            + renames.get(column) + ")" : "")));
                } else if (type.isDynamicColumn(column)) {
                    findings.add(new SchemaFinding(table, Kind.SEARCHABLE_COLUMN, column, false, "column " + column
                            + " no longer searchable" + (renames.containsKey(column) ? " as " + column
                            + " (searchable as " + renames.get(column) + ")" : "")));
                }
            }
        });
        return findings;
    }

    /** The finding of one shape difference under {@code mode}, its message saying whom it breaks and why. */
    private static SchemaFinding judge(String table, CompatibilityMode mode, ShapeChange change, CatalogTable old,
            CatalogTable now, Map<String, String> renames) {
        String newName = change.column();
        String oldName = newName == null ? null : renames.entrySet().stream()
                .filter(e -> e.getValue().equals(newName)).map(Map.Entry::getKey).findFirst().orElse(newName);
        ColumnShape before = oldName == null ? null : old.shape().column(oldName).orElse(null);
        ColumnShape after = newName == null ? null : now.shape().column(newName).orElse(null);
        String backward = change.breaksBackward() ? reason(change, true, before, after, oldName, newName) : null;
        String forward = change.breaksForward() ? reason(change, false, before, after, oldName, newName) : null;
        List<String> why = new ArrayList<>();
        String message = change.description();
        boolean breaking = change.breaks(mode);
        if (breaking) {
            if (backward != null && mode != CompatibilityMode.FORWARD) {
                why.add(backward);
            }
            if (forward != null && mode != CompatibilityMode.BACKWARD && !forward.equals(backward)) {
                why.add(forward);
            }
            message += " (breaks " + mode + ": " + String.join("; ", why) + ")";
        } else if (backward != null || forward != null) {
            List<String> directions = new ArrayList<>();
            if (backward != null) {
                directions.add("BACKWARD");
                why.add(backward);
            }
            if (forward != null) {
                directions.add("FORWARD");
                if (!forward.equals(backward)) {
                    why.add(forward);
                }
            }
            message += " (" + mode + " allows it; it would break " + String.join(" and ", directions) + ": "
                    + String.join("; ", why) + ")";
        }
        return new SchemaFinding(table, Kind.of(change.kind()), newName, breaking, message);
    }

    /** Why {@code change} breaks readers of the new shape ({@code backward}) or of the old one. */
    private static String reason(ShapeChange change, boolean backward, ColumnShape before, ColumnShape after,
            String oldName, String newName) {
        return switch (change.kind()) {
            case COLUMN_ADDED -> "readers of the new shape find no " + newName + " in older events";
            case COLUMN_DROPPED -> "readers of the old shape find no " + oldName + " in newer events";
            case COLUMN_RENAMED -> backward ? "readers of the new shape find no " + newName + " in older events"
                    : "readers of the old shape find no " + oldName + " in newer events";
            case TYPE_CHANGED -> backward
                    ? "readers of the new shape expect " + after.sqlType() + " in " + newName + ", older events hold "
                            + before.sqlType()
                    : "readers of the old shape expect " + before.sqlType() + " in " + oldName + ", newer events hold "
                            + after.sqlType();
            case NULLABILITY_CHANGED -> backward
                    ? "readers of the new shape expect no null in " + newName + ", older events may hold one"
                    : "readers of the old shape expect no null in " + oldName + ", newer events may hold one";
            case PRIMARY_KEY_CHANGED -> "record keys, partitions and per-row order change";
            case DEFAULT_CHANGED -> "a default changed";
        };
    }

    private static String goneAs(String column, Map<String, String> renames) {
        return renames.containsKey(column) ? "renamed to " + renames.get(column) : "dropped";
    }

    /** The identity as SQL names it: DEFAULT, FULL, NOTHING or USING INDEX. */
    private static String identity(CatalogTable table) {
        return switch (table.replicaIdentity()) {
            case 'f' -> "FULL";
            case 'n' -> "NOTHING";
            case 'i' -> "USING INDEX";
            default -> "DEFAULT";
        };
    }

    private void execute(Connection connection, MigrationScript.Statement statement)
            throws CannotCheckException {
        try (Statement s = connection.createStatement()) {
            s.setEscapeProcessing(false);
            s.execute(statement.sql());
        } catch (SQLException e) {
            throw new CannotCheckException(failure(statement, e));
        }
    }

    /** One line on why {@code statement} failed: its line, its start, and what Postgres said. */
    private String failure(MigrationScript.Statement statement, SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        int line = statement.line();
        String said = e.getMessage();
        if (e instanceof PSQLException p && p.getServerErrorMessage() != null) {
            ServerErrorMessage server = p.getServerErrorMessage();
            said = server.getMessage() + (server.getHint() == null ? "" : " (" + server.getHint() + ")");
            if (server.getPosition() > 0) {
                line = statement.lineOf(server.getPosition());
            }
        }
        String where = "line " + line + " (" + statement.excerpt() + ")";
        return switch (state) {
            case "25001" -> where + " cannot run inside a transaction (" + said + "), and the check applies a "
                    + "migration only inside a transaction it rolls back; put such statements in a migration of "
                    + "their own, which cannot be checked";
            case "55P03" -> where + " waited longer than the lock timeout (" + timeouts.lock() + ", --lock-timeout) "
                    + "for a lock other sessions hold: " + said;
            case "57014" -> where + " ran longer than the statement timeout (" + timeouts.statement()
                    + ", --statement-timeout): " + said;
            default -> "the migration fails at " + where + ": " + said + (state.isEmpty() ? ""
                    : " (SQLState " + state + ")");
        };
    }

    /** Refuses a migration whose version Flyway's history on this database records as applied. */
    private static void refuseIfApplied(Connection connection, String version)
            throws SQLException, CannotCheckException {
        if (oid(connection, FLYWAY_HISTORY) == 0) {
            return;
        }
        MigrationVersion checked = MigrationVersion.fromVersion(version);
        try (Statement s = connection.createStatement();
                ResultSet rs = s.executeQuery("SELECT version FROM " + FLYWAY_HISTORY
                        + " WHERE success AND version IS NOT NULL")) {
            while (rs.next()) {
                if (MigrationVersion.fromVersion(rs.getString(1)).equals(checked)) {
                    throw new CannotCheckException("version " + version + " is already applied to the database "
                            + "checked (" + FLYWAY_HISTORY + "), so applying it again says nothing about it; check it "
                            + "against a database it has not been applied to", true, true);
                }
            }
        }
    }

    /** The OID of {@code table}, or 0 if there is no such table. */
    private static long oid(Connection connection, String table) throws SQLException {
        try (PreparedStatement s = connection.prepareStatement("SELECT to_regclass(?)::oid")) {
            s.setString(1, table);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static long transactionId(Connection connection) throws SQLException {
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery("SELECT txid_current()")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void setLocal(Connection connection, String name, String value) throws SQLException {
        try (PreparedStatement s = connection.prepareStatement("SELECT set_config(?, ?, true)")) {
            s.setString(1, name);
            s.setString(2, value);
            s.execute();
        }
    }

    private static String bare(String table) {
        return table.substring(table.indexOf('.') + 1).toLowerCase(Locale.ROOT);
    }
}
