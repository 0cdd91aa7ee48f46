package dev.changeflow.capture.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.capture.internal.SignalTable;
import dev.changeflow.capture.internal.CaptureOffsets;
import dev.changeflow.capture.internal.DebeziumProperties;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.db.PostgresEndpoint;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Backfills while streaming: an incremental snapshot of one captured table, or of the rows a WHERE condition selects,
 * read by capture's Debezium engine in chunks between streamed changes (DBLog watermarks), resumable after a crash or
 * a failover. Changeflow does not read the rows itself: a request is a row of Debezium's signalling table
 * ({@link CaptureSettings#SIGNAL_TABLE}), which reaches capture through the replication slot, so it waits for a
 * capture that is down and survives one that dies; Debezium keeps the snapshot's position in capture's offsets, which
 * capture commits with every batch.
 *
 * <p>Every request is checked first and refused with one line ({@link BackfillRefusedException}), changing nothing:
 * an unknown table, a table that is not captured, a condition that does not parse or names a missing column, a second
 * backfill of a table while one is pending or running, a stop with nothing to stop. A condition is user text: it is
 * only ever run by Postgres inside a read-only transaction (an {@code EXPLAIN} to check it, a {@code count(*)} to
 * estimate its rows), must be one expression (balanced parentheses, no {@code ;}, no comments, no dollar quotes), and
 * is then handed to Debezium, which runs it in its chunk {@code SELECT}s.
 *
 * <p>Each request is also recorded in {@link CaptureSettings#BACKFILL_TABLE}, with the slot position at which it was
 * made, so {@link #status()} can say from the database and capture's committed offsets alone, with or without a
 * running capture, whether a backfill is pending, queued, running (and how far), done or stopped.
 */
public final class Backfills {
    /** Prefix of the id of the first snapshot capture requests for itself (snapshot mode {@code incremental}). */
    static final String INITIAL = "initial:";
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * How long a request whose slot position was never recorded (its client died right after the commit) counts as
     * pending; after that only capture's offsets decide whether it runs.
     */
    private static final Duration UNRECORDED_POSITION_GRACE = Duration.ofMinutes(1);

    private final PostgresEndpoint endpoint;
    private final String bootstrap;
    private final String offsetsTopic;
    private final String engineName;
    private final List<String> captured;
    private final String signalTable;
    private final String ledger;
    private final int defaultChunkSize;

    Backfills(PostgresEndpoint endpoint, String bootstrap, String offsetsTopic, String engineName,
            List<String> captured, String signalTable, String ledger, int defaultChunkSize) {
        this.endpoint = endpoint;
        this.bootstrap = bootstrap;
        this.offsetsTopic = offsetsTopic;
        this.engineName = engineName;
        this.captured = List.copyOf(captured);
        this.signalTable = signalTable;
        this.ledger = ledger;
        this.defaultChunkSize = defaultChunkSize;
    }

    /**
     * The backfills of the capture deployment {@code settings} describe.
     *
     * @throws dev.changeflow.config.ConfigException naming the first missing or bad setting
     */
    public static Backfills from(Settings settings) {
        return new Backfills(PostgresEndpoint.from(settings), settings.get(ConnectionSettings.KAFKA_BOOTSTRAP).trim(),
                settings.get(CaptureSettings.OFFSETS_TOPIC),
                DebeziumProperties.engineName(settings.get(CaptureSettings.SLOT)),
                Arrays.stream(settings.get(CaptureSettings.TABLES).split(",")).map(String::trim).toList(),
                settings.get(CaptureSettings.SIGNAL_TABLE), settings.get(CaptureSettings.BACKFILL_TABLE),
                settings.get(CaptureSettings.SNAPSHOT_CHUNK_SIZE));
    }

    /**
     * Requests a backfill of {@code table} (bare, such as {@code tasks}, or schema-qualified), of the rows
     * {@code where} selects (all when empty), in chunks of {@code chunkSize} rows (capture's setting when empty).
     *
     * @return the request as {@link #status()} shows it (pending)
     * @throws BackfillRefusedException if the request is refused; nothing was changed
     * @throws SQLException if Postgres failed
     */
    public BackfillStatus start(String table, Optional<String> where, OptionalInt chunkSize) throws SQLException {
        String qualified = captured(table);
        String condition = where.map(String::trim).filter(w -> !w.isEmpty()).orElse(null);
        int chunk = chunkSize.orElse(defaultChunkSize);
        if (chunk < 1 || chunk > 1_000_000) {
            throw new BackfillRefusedException("--chunk-size " + chunk + " is not allowed: from 1 to 1000000", false);
        }
        if (condition != null) {
            checkShape(condition);
        }
        List<BackfillStatus> before = status();
        refuseIfActive(qualified, before);
        try (Connection c = endpoint.connect()) {
            long estimate = count(c, qualified, condition, null);
            String id = UUID.randomUUID().toString();
            c.setAutoCommit(false);
            try {
                lock(c);
                if (requestedSince(c, qualified, before)) {
                    throw new BackfillRefusedException("a backfill of " + qualified + " was requested meanwhile; see "
                            + "`changeflow snapshot status`", true);
                }
                record(c, id, qualified, condition, chunk, estimate);
                signal(c, id, "execute-snapshot", executeData(List.of(qualified), condition, estimate, chunk));
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
            markRequested(c, id);
            return new BackfillStatus(id, qualified, condition, chunk, BackfillStatus.State.PENDING, estimate, 0,
                    Instant.now(), null);
        }
    }

    /**
     * Stops the backfill of {@code table} that is pending, queued or running: capture finishes the chunk in hand and
     * reads no more. What was published stays published.
     *
     * @return the backfills stopped
     * @throws BackfillRefusedException if the table is not captured or has no active backfill
     */
    public List<BackfillStatus> stop(String table) throws SQLException {
        String qualified = captured(table);
        List<BackfillStatus> active = status().stream()
                .filter(b -> b.table().equals(qualified) && b.state().active()).toList();
        if (active.isEmpty()) {
            throw new BackfillRefusedException("no backfill of " + qualified + " is pending or running", true);
        }
        try (Connection c = endpoint.connect()) {
            c.setAutoCommit(false);
            try {
                ObjectNode data = JSON.createObjectNode();
                data.putArray("data-collections").add(qualified);
                data.put("type", "incremental");
                signal(c, "stop:" + UUID.randomUUID(), "stop-snapshot", data.toString());
                try (PreparedStatement s = c.prepareStatement("UPDATE " + ledger
                        + " SET stopped_at = now() WHERE table_name = ? AND stopped_at IS NULL")) {
                    s.setString(1, qualified);
                    s.executeUpdate();
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
        return active;
    }

    /**
     * Every backfill recorded, newest first (at most 50), with where it stands.
     *
     * @throws SQLException if Postgres failed
     * @throws IllegalStateException if capture's offsets cannot be read from Kafka
     */
    public List<BackfillStatus> status() throws SQLException {
        Offsets offsets = offsets();
        List<BackfillStatus> out = new ArrayList<>();
        List<String> seenActive = new ArrayList<>();
        try (Connection c = endpoint.connect();
                PreparedStatement s = c.prepareStatement("SELECT id, table_name, condition, chunk_size, rows_estimate, "
                        + "requested_at, requested_lsn::text, stopped_at FROM " + ledger
                        + " ORDER BY requested_at DESC LIMIT 50")) {
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    String table = rs.getString(2);
                    String condition = rs.getString(3);
                    int chunk = rs.getInt(4);
                    long estimate = rs.getLong(5);
                    Instant requestedAt = rs.getTimestamp(6).toInstant();
                    String requestedLsn = rs.getString(7);
                    BackfillStatus.State state;
                    long done;
                    if (rs.getTimestamp(8) != null) {
                        state = BackfillStatus.State.STOPPED;
                        done = 0;
                    } else if (seenActive.contains(table)) {
                        // An older request of a table whose newer request is the active one.
                        state = BackfillStatus.State.DONE;
                        done = estimate;
                    } else if (Arrays.stream(table.split(",")).anyMatch(offsets.collections()::contains)) {
                        // The first snapshot names every captured table; a backfill names one.
                        List<String> tables = Arrays.asList(table.split(","));
                        String current = offsets.collections().get(0);
                        state = tables.contains(current) ? BackfillStatus.State.RUNNING : BackfillStatus.State.QUEUED;
                        done = 0;
                        if (state == BackfillStatus.State.RUNNING) {
                            for (String finished : tables) {
                                if (!offsets.collections().contains(finished)) {
                                    done += count(c, finished, condition, null);
                                }
                            }
                            done += rowsUpTo(c, current, condition, offsets.lastKey());
                        }
                    } else if (requestedLsn == null
                            ? requestedAt.isAfter(Instant.now().minus(UNRECORDED_POSITION_GRACE))
                            : Long.compareUnsigned(offsets.lsn(), CaptureOffsets.parseLsn(requestedLsn)) < 0) {
                        state = BackfillStatus.State.PENDING;
                        done = 0;
                    } else {
                        state = BackfillStatus.State.DONE;
                        done = estimate;
                    }
                    if (state.active()) {
                        seenActive.add(table);
                    }
                    out.add(new BackfillStatus(rs.getString(1), table, condition, chunk, state, estimate, done,
                            requestedAt, eta(state, estimate, done, requestedAt)));
                }
            }
        }
        return out;
    }

    /**
     * Requests capture's first snapshot, incremental, of every captured table, unless one was requested for this
     * slot already: makes sure the publication and the slot exist (so that the request, written afterwards, is in
     * the slot's stream), then writes the request. Called by capture before its engine starts when it has no
     * committed offsets. The request's id names the slot and its position when made, and
     * {@link #forgetInitialRequest} (a slot reset) removes it, so a reset slot is snapshotted again.
     *
     * @return true if a request was written
     */
    public static boolean requestInitial(Connection c, String slot, String publication, List<String> tables,
            String heartbeatTable, String signalTable, String ledger) throws SQLException {
        if (initialRequested(c, signalTable, slot)) {
            return false;
        }
        boolean publicationExists;
        try (PreparedStatement s = c.prepareStatement("SELECT 1 FROM pg_publication WHERE pubname = ?")) {
            s.setString(1, publication);
            try (ResultSet rs = s.executeQuery()) {
                publicationExists = rs.next();
            }
        }
        if (!publicationExists) {
            List<String> all = new ArrayList<>(tables);
            all.add(heartbeatTable);
            all.add(signalTable);
            try (Statement s = c.createStatement()) {
                // Names validated by their settings' patterns; Debezium keeps the list up to date from here on.
                s.execute("CREATE PUBLICATION " + publication + " FOR TABLE " + String.join(", ", all));
            }
        }
        String lsn = null;
        try (PreparedStatement s = c.prepareStatement(
                "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ?")) {
            s.setString(1, slot);
            try (ResultSet rs = s.executeQuery()) {
                if (rs.next()) {
                    lsn = rs.getString(1);
                }
            }
        }
        if (lsn == null) {
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT lsn::text FROM pg_create_logical_replication_slot(?, 'pgoutput')")) {
                s.setString(1, slot);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    lsn = rs.getString(1);
                }
            }
        }
        String id = INITIAL + slot + ":" + lsn;
        long estimate = 0;
        for (String table : tables) {
            estimate += count(c, table, null, null);
        }
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            insertLedger(c, ledger, id, String.join(",", tables), null, 0, estimate);
            SignalTable.insert(c, signalTable, id, "execute-snapshot", executeData(tables, null, estimate, 0));
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
        try (PreparedStatement s = c.prepareStatement("UPDATE " + ledger
                + " SET requested_lsn = pg_current_wal_lsn() WHERE id = ?")) {
            s.setString(1, id);
            s.executeUpdate();
        }
        return true;
    }

    /** Whether the first snapshot of {@code slot} was requested (and not forgotten by a slot reset since). */
    public static boolean initialRequested(Connection c, String signalTable, String slot) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT 1 FROM " + signalTable + " WHERE id LIKE ?")) {
            s.setString(1, INITIAL + slot + ":%");
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Forgets the first snapshot requested for {@code slot} (its slot was reset); returns how many rows went. */
    public static int forgetInitialRequest(Connection c, String signalTable, String slot) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("DELETE FROM " + signalTable + " WHERE id LIKE ?")) {
            s.setString(1, INITIAL + slot + ":%");
            return s.executeUpdate();
        }
    }

    /** The schema-qualified captured table {@code table} names, or a refusal saying why not. */
    String captured(String table) throws SQLException {
        String name = table == null ? "" : table.trim().toLowerCase(java.util.Locale.ROOT);
        if (!name.matches("[a-z_][a-z0-9_]*(\\.[a-z_][a-z0-9_]*)?")) {
            throw new BackfillRefusedException("unknown table '" + table + "'", false);
        }
        Optional<String> match = captured.stream()
                .filter(t -> t.equals(name) || t.substring(t.indexOf('.') + 1).equals(name)).findFirst();
        if (match.isPresent()) {
            if (!exists(match.get())) {
                throw new BackfillRefusedException("unknown table '" + table + "': " + match.get()
                        + " does not exist in the database (run the migrations)", false);
            }
            return match.get();
        }
        String qualified = name.contains(".") ? name : "app." + name;
        if (exists(qualified)) {
            throw new BackfillRefusedException("table " + qualified + " is not captured (captured: "
                    + String.join(", ", captured) + "; see CHANGEFLOW_CAPTURE_TABLES)", false);
        }
        throw new BackfillRefusedException("unknown table '" + table + "' (captured: " + String.join(", ", captured)
                + ")", false);
    }

    private boolean exists(String qualified) throws SQLException {
        try (Connection c = endpoint.connect();
                PreparedStatement s = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            s.setString(1, qualified);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /**
     * Refuses a condition that is not a single expression: unbalanced parentheses (or one closing the WHERE's own),
     * a statement separator, a comment or a dollar quote outside string literals. Pure; visible for tests.
     */
    static void checkShape(String condition) {
        int depth = 0;
        char quote = 0;
        for (int i = 0; i < condition.length(); i++) {
            char ch = condition.charAt(i);
            if (quote != 0) {
                if (ch == quote) {
                    if (i + 1 < condition.length() && condition.charAt(i + 1) == quote) {
                        i++;
                    } else {
                        quote = 0;
                    }
                }
                continue;
            }
            char next = i + 1 < condition.length() ? condition.charAt(i + 1) : 0;
            if (ch == '\'' || ch == '"') {
                quote = ch;
            } else if (ch == '(') {
                depth++;
            } else if (ch == ')') {
                if (--depth < 0) {
                    throw shapeRefused(condition, "a ')' without its '('");
                }
            } else if (ch == ';') {
                throw shapeRefused(condition, "';' (one condition, not statements)");
            } else if ((ch == '-' && next == '-') || (ch == '/' && next == '*')) {
                throw shapeRefused(condition, "a comment");
            } else if (ch == '$') {
                throw shapeRefused(condition, "'$' (dollar quotes and parameters)");
            }
        }
        if (quote != 0) {
            throw shapeRefused(condition, "an unterminated quote");
        }
        if (depth != 0) {
            throw shapeRefused(condition, "a '(' without its ')'");
        }
    }

    private static BackfillRefusedException shapeRefused(String condition, String what) {
        return new BackfillRefusedException("--where \"" + condition + "\" does not parse: it has " + what, false);
    }

    /**
     * Rows of {@code table} matching {@code condition}, and with a key at or before {@code upTo} when given. Runs in
     * a read-only transaction; a condition Postgres refuses (syntax, a missing column) is a refusal.
     */
    private static long count(Connection c, String table, String condition, Object[] upTo) throws SQLException {
        List<String> key = upTo == null ? List.of() : keyColumns(c, table);
        StringBuilder sql = new StringBuilder("SELECT count(*) FROM ").append(table).append(" WHERE true");
        if (condition != null) {
            sql.append(" AND (").append(condition).append(')');
        }
        if (upTo != null) {
            sql.append(" AND (").append(key.stream().map(k -> '"' + k + '"').collect(Collectors.joining(", ")))
                    .append(") <= (").append(key.stream().map(k -> "?").collect(Collectors.joining(", "))).append(')');
        }
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement tx = c.createStatement()) {
            tx.execute("SET TRANSACTION READ ONLY");
            tx.execute("SET LOCAL statement_timeout = '60s'");
            try (PreparedStatement s = c.prepareStatement(sql.toString())) {
                for (int i = 0; upTo != null && i < upTo.length; i++) {
                    s.setObject(i + 1, upTo[i]);
                }
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        } catch (SQLException e) {
            if (condition != null && e.getSQLState() != null && (e.getSQLState().startsWith("42")
                    || e.getSQLState().startsWith("22"))) {
                throw new BackfillRefusedException("--where \"" + condition + "\" is not a condition on " + table
                        + ": " + firstLine(e.getMessage()), false);
            }
            throw e;
        } finally {
            c.rollback();
            c.setAutoCommit(autoCommit);
        }
    }

    private long rowsUpTo(Connection c, String table, String condition, Object[] lastKey) throws SQLException {
        return lastKey == null ? 0 : count(c, table, condition, lastKey);
    }

    private static List<String> keyColumns(Connection c, String table) throws SQLException {
        List<String> columns = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT a.attname FROM pg_index i JOIN pg_attribute a "
                + "ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = ?::regclass "
                + "AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)")) {
            s.setString(1, table);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    columns.add(rs.getString(1));
                }
            }
        }
        return columns;
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }

    private void refuseIfActive(String table, List<BackfillStatus> statuses) {
        statuses.stream().filter(b -> b.table().equals(table) && b.state().active()).findFirst().ifPresent(b -> {
            throw new BackfillRefusedException("a backfill of " + table + " is already " + b.state().name()
                    .toLowerCase(java.util.Locale.ROOT) + " (" + b.id() + "); stop it first with `changeflow snapshot "
                    + "stop --table " + table.substring(table.indexOf('.') + 1) + "`", true);
        });
    }

    /** Whether a backfill of {@code table} was requested after {@code before} was read (a concurrent request). */
    private boolean requestedSince(Connection c, String table, List<BackfillStatus> before) throws SQLException {
        List<String> known = before.stream().map(BackfillStatus::id).toList();
        try (PreparedStatement s = c.prepareStatement("SELECT id FROM " + ledger
                + " WHERE table_name = ? AND stopped_at IS NULL")) {
            s.setString(1, table);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    if (!known.contains(rs.getString(1))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static void lock(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SELECT pg_advisory_xact_lock(hashtext('changeflow-backfill'))");
        }
    }

    private void record(Connection c, String id, String table, String condition, int chunk, long estimate)
            throws SQLException {
        insertLedger(c, ledger, id, table, condition, chunk, estimate);
    }

    private static void insertLedger(Connection c, String ledger, String id, String table, String condition,
            int chunk, long estimate) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO " + ledger
                + " (id, table_name, condition, chunk_size, rows_estimate) VALUES (?, ?, ?, ?, ?)")) {
            s.setString(1, id);
            s.setString(2, table);
            s.setString(3, condition);
            s.setInt(4, chunk);
            s.setLong(5, estimate);
            s.executeUpdate();
        }
    }

    private void signal(Connection c, String id, String type, String data) throws SQLException {
        SignalTable.insert(c, signalTable, id, type, data);
    }

    private void markRequested(Connection c, String id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE " + ledger
                + " SET requested_lsn = pg_current_wal_lsn() WHERE id = ?")) {
            s.setString(1, id);
            s.executeUpdate();
        }
    }

    /** Debezium's execute-snapshot data, plus Changeflow's own fields (which Debezium ignores). */
    private static String executeData(List<String> tables, String condition, long estimate, int chunk) {
        ObjectNode data = JSON.createObjectNode();
        ArrayNode collections = data.putArray("data-collections");
        tables.forEach(collections::add);
        data.put("type", "incremental");
        if (condition != null) {
            ObjectNode filter = data.putArray("additional-conditions").addObject();
            filter.put("data-collection", tables.get(0).replace(".", "\\."));
            filter.put("filter", condition);
        }
        data.put("changeflow-rows", estimate);
        if (chunk > 0) {
            data.put("changeflow-chunk-size", chunk);
        }
        return data.toString();
    }

    private static java.time.Duration eta(BackfillStatus.State state, long estimate, long done, Instant requestedAt) {
        if (state != BackfillStatus.State.RUNNING || done <= 0) {
            return null;
        }
        double seconds = Math.max(1, Duration.between(requestedAt, Instant.now()).toMillis() / 1000.0);
        double rate = done / seconds;
        return Duration.ofSeconds((long) Math.ceil(Math.max(0, estimate - done) / rate));
    }

    /** What capture's committed offsets say about incremental snapshots. */
    record Offsets(long lsn, List<String> collections, Object[] lastKey) {
    }

    Offsets offsets() {
        Map<ByteBuffer, byte[]> all = CaptureOffsets.read(bootstrap, offsetsTopic, engineName);
        long lsn = 0;
        List<String> collections = new ArrayList<>();
        Object[] lastKey = null;
        for (byte[] value : all.values()) {
            try {
                JsonNode node = JSON.readTree(value);
                if (node.has("lsn")) {
                    lsn = node.get("lsn").asLong();
                }
                JsonNode list = node.get("incremental_snapshot_collections");
                if (list != null && !list.isNull()) {
                    for (JsonNode entry : JSON.readTree(list.asText())) {
                        collections.add(entry.path("incremental_snapshot_collections_id").asText());
                    }
                }
                JsonNode key = node.get("incremental_snapshot_primary_key");
                if (key != null && !key.isNull() && !key.asText().isEmpty()) {
                    lastKey = deserializeKey(key.asText());
                }
            } catch (IOException e) {
                throw new IllegalStateException("A capture offset is not the JSON expected: " + e, e);
            }
        }
        return new Offsets(lsn, collections, lastKey);
    }

    /**
     * Debezium's serialized chunk key (Java serialization, in hex), read with a filter that admits only the value
     * types a primary key can have.
     */
    static Object[] deserializeKey(String hex) {
        ObjectInputFilter filter = info -> {
            Class<?> type = info.serialClass();
            if (type == null) {
                return ObjectInputFilter.Status.UNDECIDED;
            }
            Class<?> base = type.isArray() ? type.getComponentType() : type;
            String name = base.getName();
            boolean allowed = base.isPrimitive() || name.startsWith("java.lang.") || name.equals("java.util.UUID")
                    || name.startsWith("java.math.") || name.startsWith("java.time.") || name.startsWith("java.sql.")
                    || name.equals("java.util.Date");
            return allowed ? ObjectInputFilter.Status.ALLOWED : ObjectInputFilter.Status.REJECTED;
        };
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(HexFormat.of().parseHex(hex)))) {
            in.setObjectInputFilter(filter);
            return (Object[]) in.readObject();
        } catch (IOException | ClassNotFoundException | ClassCastException | IllegalArgumentException e) {
            return null;
        }
    }
}
