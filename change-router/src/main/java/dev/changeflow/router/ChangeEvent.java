package dev.changeflow.router;

import dev.changeflow.router.internal.ColumnValues;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * One committed change to one row of a captured table: version 1 of the public change event contract (see
 * {@code docs/change-event.md} and the JSON Schema at {@link ChangeEventSchema#RESOURCE}). Immutable and
 * thread-safe; encode it with {@link ChangeEventCodec}.
 *
 * <p><b>Column values.</b> {@code key}, {@code before} and {@code after} map column names, in table order, to values
 * of these types only: {@code null}, {@link String}, {@link Boolean}, {@link Long}, {@link java.math.BigDecimal}, or
 * a {@link java.util.List} of these. UUIDs are strings, timestamps are ISO-8601 UTC strings
 * ({@code 2026-11-21T04:53:17.123456Z}), dates are {@code yyyy-MM-dd} strings. The constructor normalises numbers so
 * that an event equals itself after a round trip through JSON: every integral number that fits in 64 bits
 * ({@code Integer}, {@code Short}, {@code Byte}, {@code BigInteger}, a {@code BigDecimal} without fraction digits)
 * becomes a {@code Long}; a {@code Double} or {@code Float} becomes the {@code BigDecimal} of its shortest decimal
 * form ({@code 0.1} stays {@code 0.1}); a {@code BigDecimal} with fraction digits keeps its scale ({@code 12.50}).
 * NaN and infinities are rejected, since JSON has no form for them.
 *
 * <p>No value is ever Debezium's {@link #UNAVAILABLE_VALUE_PLACEHOLDER}: captured tables have
 * {@code REPLICA IDENTITY FULL}, and an event carrying the placeholder would hand consumers a fake value as if it
 * were data.
 *
 * @param schemaVersion the major version of the contract, {@link #SCHEMA_VERSION} for events built here;
 *     {@link ChangeEventCodec} reads and writes version 1 only
 * @param eventId identifies the change across redeliveries: see {@link #eventIdFor}; never null
 * @param op what happened to the row; never null
 * @param table the bare table name, without schema, for example {@code tasks}; never null or blank
 * @param key the primary key columns and their values, in key order; never null, never empty, no null values
 * @param before the whole row before the change: null for {@link Op#CREATE} and {@link Op#READ}, never null for
 *     {@link Op#DELETE}; null for an {@link Op#UPDATE} only when the table lacks full replica identity
 * @param after the whole row after the change: null for {@link Op#DELETE}, never null otherwise
 * @param source where the change comes from in Postgres; never null
 * @param rowSchema the version of the table's row shape the event was written with (see {@link RowSchemaRef}), or
 *     null when capture registers no row schemas or the event predates them; an optional field of version 1
 */
public record ChangeEvent(int schemaVersion, String eventId, Op op, String table, Map<String, Object> key,
        Map<String, Object> before, Map<String, Object> after, Source source, RowSchemaRef rowSchema) {

    /** The version of the contract this class describes. */
    public static final int SCHEMA_VERSION = 1;

    /**
     * The string Debezium puts in place of a value that logical decoding did not send (an unchanged TOASTed column
     * without full replica identity). Never a value of an event.
     */
    public static final String UNAVAILABLE_VALUE_PLACEHOLDER = "__debezium_unavailable_value";

    /**
     * Validates the event and copies the maps into unmodifiable maps that keep insertion order and null values,
     * normalising values as described in the class documentation.
     *
     * @throws NullPointerException if {@code eventId}, {@code op}, {@code table}, {@code key} or {@code source} is
     *     null
     * @throws IllegalArgumentException if {@code schemaVersion} is below 1, the table is blank, the key is empty
     *     or has a null value, {@code before} or {@code after} is present or absent against the rules of
     *     {@code op}, or a value has an unsupported type or is the {@link #UNAVAILABLE_VALUE_PLACEHOLDER} (the
     *     message names the column)
     */
    public ChangeEvent {
        if (schemaVersion < 1) {
            throw new IllegalArgumentException("schemaVersion must be 1 or more: " + schemaVersion);
        }
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(source, "source");
        if (table.isBlank()) {
            throw new IllegalArgumentException("table must be a table name, such as tasks");
        }
        key = ColumnValues.key(key);
        before = before == null ? null : ColumnValues.row("before", before);
        after = after == null ? null : ColumnValues.row("after", after);
        String what = "a " + op.jsonName() + " event for " + kafkaKey(table, key);
        switch (op) {
            case CREATE, READ -> {
                require(before == null, what + " cannot have a before image");
                require(after != null, what + " needs an after image");
            }
            case UPDATE -> require(after != null, what + " needs an after image");
            case DELETE -> {
                require(after == null, what + " cannot have an after image");
                require(before != null, what + " needs a before image");
            }
        }
    }

    /** An event without {@link #rowSchema()}. */
    public ChangeEvent(int schemaVersion, String eventId, Op op, String table, Map<String, Object> key,
            Map<String, Object> before, Map<String, Object> after, Source source) {
        this(schemaVersion, eventId, op, table, key, before, after, source, null);
    }

    private static void require(boolean condition, String problem) {
        if (!condition) {
            throw new IllegalArgumentException(problem);
        }
    }

    /**
     * A version-1 event whose {@code eventId} is {@link #eventIdFor eventIdFor(table, key, source.lsn(), op)}.
     *
     * @throws NullPointerException if {@code op}, {@code table}, {@code key} or {@code source} is null
     * @throws IllegalArgumentException as the {@linkplain ChangeEvent#ChangeEvent constructor} does
     */
    public static ChangeEvent of(Op op, String table, Map<String, Object> key, Map<String, Object> before,
            Map<String, Object> after, Source source) {
        return of(op, table, key, before, after, source, null);
    }

    /** As {@link #of(Op, String, Map, Map, Map, Source)}, naming the row schema version it was written with. */
    public static ChangeEvent of(Op op, String table, Map<String, Object> key, Map<String, Object> before,
            Map<String, Object> after, Source source, RowSchemaRef rowSchema) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(op, "op");
        return new ChangeEvent(SCHEMA_VERSION, eventIdFor(table, key, source.lsn(), op), op, table, key, before,
                after, source, rowSchema);
    }

    /**
     * The identifier of a change: a name-based UUID ({@link UUID#nameUUIDFromBytes}, version 3) of the UTF-8 bytes of
     * a canonical string of the table, the key columns and values in key order, the LSN (unsigned decimal) and the
     * op's {@linkplain Op#jsonName() JSON name}. Each part is written as its length in chars, a colon and its text,
     * so that no two different changes share a string: for table {@code tasks}, key {@code id=3f2c…} (36 chars),
     * LSN 97500059720 and update, the string is {@code 5:tasks2:id36:3f2c…11:975000597206:update}. Numbers in the
     * key are written in plain decimal after normalisation, so {@code Integer 7} and {@code Long 7} give the same id.
     *
     * <p>Why: capture delivers at least once, so after a restart the same change is published again. A random id
     * would differ on each delivery; this one is identical, so consumers deduplicate on it. The LSN alone is not
     * enough: every row read by the initial snapshot carries the snapshot's LSN, hence table and key; the op tells a
     * snapshot read from a change streamed at the same position.
     *
     * @return the UUID in its canonical lowercase form; never null
     * @throws NullPointerException if {@code table}, {@code key} or {@code op} is null
     * @throws IllegalArgumentException if the key is empty or has a null or unsupported value
     */
    public static String eventIdFor(String table, Map<String, Object> key, long lsn, Op op) {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(op, "op");
        StringBuilder canonical = new StringBuilder();
        appendPart(canonical, table);
        ColumnValues.key(key).forEach((column, value) -> {
            appendPart(canonical, column);
            appendPart(canonical, ColumnValues.text(value));
        });
        appendPart(canonical, Long.toUnsignedString(lsn));
        appendPart(canonical, op.jsonName());
        return UUID.nameUUIDFromBytes(canonical.toString().getBytes(StandardCharsets.UTF_8)).toString();
    }

    private static void appendPart(StringBuilder canonical, String part) {
        canonical.append(part.length()).append(':').append(part);
    }

    /**
     * The Kafka record key: {@code <table>:<primary key>}, the key values joined with {@code ,} in key order, for
     * example {@code tasks:3f2c9a4e-0b1d-4c6e-9f8a-2d7b5e1c4a3f}. All changes of a row share it, so they land on one
     * partition, in order.
     */
    public String kafkaKey() {
        return kafkaKey(table, key);
    }

    private static String kafkaKey(String table, Map<String, Object> key) {
        return table + ":" + key.values().stream().map(ColumnValues::text).collect(Collectors.joining(","));
    }

    /** The row as the change leaves it, or as it was before a delete: {@code after}, or {@code before} for a delete. */
    public Map<String, Object> row() {
        return op == Op.DELETE ? before : after;
    }
}
