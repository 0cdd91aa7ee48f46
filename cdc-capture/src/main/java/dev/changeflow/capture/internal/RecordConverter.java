package dev.changeflow.capture.internal;

import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.Op;
import dev.changeflow.router.Source;
import io.debezium.data.VariableScaleDecimal;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Turns Debezium's Connect records straight into v1 change events: no JSON round trip. Values become typed JSON:
 * UUIDs as strings, timestamps as ISO-8601 UTC strings, dates as {@code yyyy-MM-dd}, exact numerics as
 * {@link BigDecimal}, integers as {@link Long}. Stateless and thread-safe.
 */
public final class RecordConverter {
    /** Debezium's stand-in for a value it did not receive (an unchanged TOASTed column without FULL identity). */
    static final String UNAVAILABLE = ChangeEvent.UNAVAILABLE_VALUE_PLACEHOLDER;
    private static final DateTimeFormatter ISO_UTC_MICROS = DateTimeFormatter.ofPattern(
            "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private final Set<String> ignoredTables;

    /** @param ignoredTables bare table names whose changes are captured but never published (the heartbeat table) */
    public RecordConverter(Set<String> ignoredTables) {
        this.ignoredTables = Set.copyOf(ignoredTables);
    }

    /**
     * The change event of a data record, or empty for records that carry no row change: heartbeats, tombstones,
     * and changes of ignored tables.
     *
     * @throws IllegalArgumentException if a data record lacks a field every Debezium change record has
     */
    public Optional<ChangeEvent> convert(SourceRecord record) {
        return convert(record, -1L);
    }

    /**
     * As {@link #convert(SourceRecord)}, versioning a row read by an incremental snapshot (a backfill) at
     * {@code readCeiling} when that is below the position Debezium gave it (see {@link ReadVersions}).
     *
     * @param readCeiling an unsigned LSN, or -1 (the largest unsigned value) for none
     */
    public Optional<ChangeEvent> convert(SourceRecord record, long readCeiling) {
        try {
            return convert(record, readCeiling, null);
        } catch (InterruptedException e) {
            // Unreachable: without row schemas nothing waits.
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Names the row schema version of a record of a published table. */
    @FunctionalInterface
    public interface RowSchemas {
        /** The version of {@code record}'s row shape, or null for none. */
        dev.changeflow.router.RowSchemaRef refFor(SourceRecord record, String table) throws InterruptedException;
    }

    /**
     * As {@link #convert(SourceRecord, long)}, the event naming the row schema version {@code rowSchemas} gives
     * (asked only for records of published tables).
     *
     * @param rowSchemas the versions of row shapes, or null for events without one
     * @throws InterruptedException if interrupted while {@code rowSchemas} registers a new version
     */
    public Optional<ChangeEvent> convert(SourceRecord record, long readCeiling, RowSchemas rowSchemas)
            throws InterruptedException {
        if (!(record.value() instanceof Struct value) || value.schema().field("op") == null) {
            return Optional.empty();
        }
        Struct source = value.getStruct("source");
        String table = source.getString("table");
        if (ignoredTables.contains(table)) {
            return Optional.empty();
        }
        Op op = Op.fromDebezium(value.getString("op"));
        Map<String, Object> before = row(value.getStruct("before"));
        Map<String, Object> after = row(value.getStruct("after"));
        if (before != null && after != null) {
            fillUnavailableFromBefore(after, before);
        }
        Map<String, Object> key = record.key() instanceof Struct k ? row(k) : Map.of();
        return Optional.of(ChangeEvent.of(op, table, key, op == Op.CREATE || op == Op.READ ? null : before,
                op == Op.DELETE ? null : after, source(source, op == Op.READ && isIncremental(source)
                        ? readCeiling : -1L, op == Op.READ), rowSchemas == null ? null : rowSchemas.refFor(record, table)));
    }

    /** Whether {@code record} is a row read by an incremental snapshot (a backfill chunk). */
    public static boolean isIncrementalRead(SourceRecord record) {
        return record.value() instanceof Struct value && value.schema().field("op") != null
                && "r".equals(value.getString("op")) && isIncremental(value.getStruct("source"));
    }

    /** The bare table name of a data record, or null for records without one. */
    public static String tableOf(SourceRecord record) {
        if (!(record.value() instanceof Struct value) || value.schema().field("source") == null) {
            return null;
        }
        return value.getStruct("source").getString("table");
    }

    private static boolean isIncremental(Struct source) {
        return source.schema().field("snapshot") != null && "incremental".equals(source.getString("snapshot"));
    }

    private static Source source(Struct source, long ceiling, boolean read) {
        Long given = source.getInt64("lsn");
        // Debezium gives rows read by an incremental snapshot no LSN at all: they get the ceiling (ReadVersions).
        Long lsn = given == null ? (ceiling == -1L ? null : ceiling)
                : Long.compareUnsigned(given, ceiling) <= 0 ? given : ceiling;
        Long txId = source.getInt64("txId");
        Instant commitTs = source.schema().field("ts_us") != null && source.getInt64("ts_us") != null
                ? Instant.EPOCH.plus(source.getInt64("ts_us"), ChronoUnit.MICROS)
                : Instant.ofEpochMilli(source.getInt64("ts_ms"));
        String snapshot = source.schema().field("snapshot") == null ? null : source.getString("snapshot");
        // Only a read is a snapshot row: Debezium may flag streamed changes too (after a restart during a snapshot).
        boolean isSnapshot = read && snapshot != null && !snapshot.equals("false");
        return new Source(lsn == null ? 0 : lsn, txId == null ? 0 : txId, commitTs, isSnapshot);
    }

    /**
     * With REPLICA IDENTITY FULL Debezium never sends the placeholder; without it, an unchanged TOASTed column does.
     * Its value is then the before-image's, since the column did not change. A placeholder with no before-image to
     * take from is dropped: the event never carries the placeholder, and the column's absence says "unknown".
     */
    private static void fillUnavailableFromBefore(Map<String, Object> after, Map<String, Object> before) {
        after.replaceAll((column, v) -> isUnavailable(v) && !isUnavailable(before.get(column))
                ? before.get(column) : v);
    }

    private static Map<String, Object> row(Struct struct) {
        if (struct == null) {
            return null;
        }
        Map<String, Object> row = new LinkedHashMap<>();
        for (Field field : struct.schema().fields()) {
            Object value = value(field.schema(), struct.get(field));
            if (!isUnavailable(value)) {
                row.put(field.name(), value);
            }
        }
        return row;
    }

    private static boolean isUnavailable(Object value) {
        return UNAVAILABLE.equals(value);
    }

    private static Object value(Schema schema, Object value) {
        if (value == null) {
            return null;
        }
        String name = schema.name();
        if (name != null) {
            switch (name) {
                case "io.debezium.time.Date":
                    return LocalDate.ofEpochDay(((Number) value).longValue()).toString();
                case "io.debezium.time.MicroTimestamp":
                    return ISO_UTC_MICROS.format(Instant.EPOCH.plus(((Number) value).longValue(), ChronoUnit.MICROS));
                case "io.debezium.time.Timestamp":
                    return ISO_UTC_MICROS.format(Instant.ofEpochMilli(((Number) value).longValue()));
                case "io.debezium.time.NanoTimestamp":
                    return Instant.EPOCH.plus(((Number) value).longValue(), ChronoUnit.NANOS).toString();
                case "io.debezium.time.ZonedTimestamp":
                    return isUnavailable(value) ? value
                            : ISO_UTC_MICROS.format(OffsetDateTime.parse((String) value).toInstant());
                case "io.debezium.time.MicroTime":
                    return LocalTime.ofNanoOfDay(((Number) value).longValue() * 1000).toString();
                case "io.debezium.time.Time":
                    return LocalTime.ofNanoOfDay(((Number) value).longValue() * 1_000_000).toString();
                case Decimal.LOGICAL_NAME:
                    return (BigDecimal) value;
                case VariableScaleDecimal.LOGICAL_NAME:
                    return VariableScaleDecimal.toLogical((Struct) value).getDecimalValue().orElse(null);
                default:
                    break;
            }
        }
        switch (schema.type()) {
            case INT8:
            case INT16:
            case INT32:
            case INT64:
                return ((Number) value).longValue();
            case FLOAT32:
            case FLOAT64:
                return ((Number) value).doubleValue();
            case BOOLEAN:
            case STRING:
                return value;
            case BYTES:
                byte[] bytes = value instanceof ByteBuffer b ? toArray(b) : (byte[]) value;
                String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
                return UNAVAILABLE.equals(text) ? UNAVAILABLE : Base64.getEncoder().encodeToString(bytes);
            case ARRAY:
                List<Object> out = new ArrayList<>();
                for (Object element : (List<?>) value) {
                    out.add(value(schema.valueSchema(), element));
                }
                return out;
            case STRUCT:
                return row((Struct) value);
            default:
                return value.toString();
        }
    }

    private static byte[] toArray(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }
}
