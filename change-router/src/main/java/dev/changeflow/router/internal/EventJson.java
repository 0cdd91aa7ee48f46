package dev.changeflow.router.internal;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.Op;
import dev.changeflow.router.RowSchemaRef;
import dev.changeflow.router.Source;
import java.math.BigInteger;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The JSON shape of a version-1 change event, field for field, as Jackson reads and writes it. Fields are boxed so
 * that a missing field reads as null and {@link #toEvent()} can name it. Unknown fields are ignored by the mapper,
 * so a reader of version 1 accepts fields added later within version 1.
 */
@JsonPropertyOrder({"schemaVersion", "eventId", "op", "table", "key", "before", "after", "source", "rowSchema"})
public record EventJson(Integer schemaVersion, String eventId, String op, String table, Map<String, Object> key,
        Map<String, Object> before, Map<String, Object> after, SourceJson source,
        @JsonInclude(JsonInclude.Include.NON_NULL) RowSchemaJson rowSchema) {

    /** {@code commitTs}: UTC, always six fraction digits, as Postgres keeps microseconds. */
    private static final DateTimeFormatter COMMIT_TS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

    private static final BigInteger UNSIGNED_LONG_LIMIT = BigInteger.ONE.shiftLeft(64);

    /** The JSON shape of {@link Source}; {@code lsn} is unsigned, hence a {@code BigInteger}. */
    @JsonPropertyOrder({"lsn", "txId", "commitTs", "snapshot"})
    public record SourceJson(BigInteger lsn, Long txId, String commitTs, Boolean snapshot) {

        Source toSource() {
            BigInteger position = required(lsn, "source.lsn");
            if (position.signum() < 0 || position.compareTo(UNSIGNED_LONG_LIMIT) >= 0) {
                throw new IllegalArgumentException("source.lsn " + position + " is not an unsigned 64-bit number");
            }
            Instant committed;
            try {
                committed = Instant.parse(required(commitTs, "source.commitTs"));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("source.commitTs '" + commitTs
                        + "' is not an ISO-8601 timestamp such as 2026-11-21T04:53:17.123456Z", e);
            }
            return new Source(position.longValue(), required(txId, "source.txId"), committed,
                    required(snapshot, "source.snapshot"));
        }
    }

    /** The JSON shape of {@link RowSchemaRef}. */
    @JsonPropertyOrder({"subject", "version", "id"})
    public record RowSchemaJson(String subject, Integer version, Integer id) {

        RowSchemaRef toRef() {
            return new RowSchemaRef(required(subject, "rowSchema.subject"), required(version, "rowSchema.version"),
                    required(id, "rowSchema.id"));
        }
    }

    /** The JSON shape of {@code event}. */
    public static EventJson of(ChangeEvent event) {
        Source source = event.source();
        return new EventJson(event.schemaVersion(), event.eventId(), event.op().jsonName(), event.table(),
                event.key(), event.before(), event.after(),
                new SourceJson(new BigInteger(Long.toUnsignedString(source.lsn())), source.txId(),
                        COMMIT_TS.format(source.commitTs()), source.snapshot()),
                event.rowSchema() == null ? null : new RowSchemaJson(event.rowSchema().subject(),
                        event.rowSchema().version(), event.rowSchema().id()));
    }

    /**
     * The event this JSON describes.
     *
     * @throws IllegalArgumentException naming the field, if a required field is missing or a value is invalid, or
     *     as the {@link ChangeEvent} constructor does
     */
    public ChangeEvent toEvent() {
        return new ChangeEvent(required(schemaVersion, "schemaVersion"), required(eventId, "eventId"),
                op(required(op, "op")), required(table, "table"), required(key, "key"), before, after,
                required(source, "source").toSource(), rowSchema == null ? null : rowSchema.toRef());
    }

    private static Op op(String name) {
        return Arrays.stream(Op.values())
                .filter(op -> op.jsonName().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown op '" + name + "'; expected one of "
                        + Arrays.stream(Op.values()).map(Op::jsonName).collect(Collectors.joining(", "))));
    }

    private static <T> T required(T value, String field) {
        if (value == null) {
            throw new IllegalArgumentException("missing required field " + field);
        }
        return value;
    }
}
