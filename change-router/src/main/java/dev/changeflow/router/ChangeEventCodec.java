package dev.changeflow.router;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.changeflow.router.internal.EventJson;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Reads and writes {@link ChangeEvent}s as UTF-8 JSON, version 1 of the contract (the JSON Schema at
 * {@link ChangeEventSchema#RESOURCE}). Decoding an encoded event gives an equal event, BigDecimal scale included.
 * Thread-safe: all methods are static and share one immutable Jackson mapper.
 */
public final class ChangeEventCodec {

    private static final JsonMapper MAPPER = JsonMapper.builder()
            // Numbers with a fraction as exact BigDecimals, scale kept. Not USE_LONG_FOR_INTS: it rejects integers
            // beyond 64 bits (numeric(30,0), an LSN above 2^63); ChangeEvent turns every integer that fits into a Long.
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
            // Strict on what is there, tolerant of fields added later within version 1.
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private ChangeEventCodec() {
    }

    /**
     * The JSON of {@code event}: fields in the documented order, {@code before} and {@code after} written as
     * {@code null} when absent, numbers in plain notation. Never null.
     *
     * @throws IllegalArgumentException if the event's {@code schemaVersion} is not {@link ChangeEvent#SCHEMA_VERSION}
     */
    public static byte[] encode(ChangeEvent event) {
        Objects.requireNonNull(event, "event");
        if (event.schemaVersion() != ChangeEvent.SCHEMA_VERSION) {
            throw new IllegalArgumentException("Cannot write schemaVersion " + event.schemaVersion()
                    + ": this codec writes version " + ChangeEvent.SCHEMA_VERSION);
        }
        try {
            return MAPPER.writeValueAsBytes(EventJson.of(event));
        } catch (JsonProcessingException e) {
            // Unreachable for a valid event: every value type is one Jackson writes natively.
            throw new IllegalStateException("Cannot encode event " + event.eventId(), e);
        }
    }

    /**
     * The event in {@code json}. Fields this version does not know are ignored, so that events carrying optional
     * fields added later within version 1 still decode.
     *
     * @throws MalformedEventException if {@code json} is null, empty or not JSON, a required field is missing or of
     *     the wrong type, {@code op} is unknown, {@code schemaVersion} is not 1, or the values break the rules of
     *     {@link ChangeEvent}; the message says which
     */
    public static ChangeEvent decode(byte[] json) {
        return decode(json, false);
    }

    /**
     * Like {@link #decode(byte[])}, but first checks {@code json} against the published JSON Schema
     * ({@link ChangeEventSchema#RESOURCE}, formats asserted), as a consumer should before trusting a record. Fields
     * the schema does not know are ignored, as readers of version 1 must (see docs/change-event.md, Versioning).
     *
     * @throws MalformedEventException as {@link #decode(byte[])}, or if the JSON breaks the schema; the message names
     *     the first violations
     */
    public static ChangeEvent decodeChecked(byte[] json) {
        return decode(json, true);
    }

    private static ChangeEvent decode(byte[] json, boolean checkSchema) {
        if (json == null || json.length == 0) {
            throw malformed("the message is empty (a tombstone?)", null);
        }
        JsonNode tree;
        try {
            tree = MAPPER.readTree(json);
        } catch (IOException e) {
            throw malformed("invalid JSON: " + describe(e), e);
        }
        if (!tree.isObject()) {
            throw malformed("expected a JSON object, found " + tree.getNodeType().name().toLowerCase(Locale.ROOT), null);
        }
        // The version first: a later version may change any other field.
        JsonNode version = tree.get("schemaVersion");
        if (version == null || version.isNull()) {
            throw malformed("missing required field schemaVersion", null);
        }
        if (!version.isIntegralNumber() || !version.canConvertToInt() || version.intValue() != 1) {
            throw malformed("unsupported schemaVersion " + version + "; this reader understands version "
                    + ChangeEvent.SCHEMA_VERSION + " only", null);
        }
        if (checkSchema) {
            // Fields this version does not know are not violations for a reader: v1 grows by optional fields.
            List<ValidationMessage> violations = SchemaHolder.SCHEMA.validate(tree).stream()
                    .filter(v -> !"additionalProperties".equals(v.getType())).toList();
            if (!violations.isEmpty()) {
                throw malformed("breaks the JSON Schema: " + violations.stream().map(ValidationMessage::getMessage)
                        .sorted().limit(3).collect(Collectors.joining("; ")), null);
            }
        }
        try {
            return MAPPER.treeToValue(tree, EventJson.class).toEvent();
        } catch (JsonProcessingException e) {
            throw malformed(describe(e), e);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw malformed(e.getMessage(), e);
        }
    }

    /** The compiled schema, loaded on first use of {@link #decodeChecked}. Thread-safe once built. */
    private static final class SchemaHolder {
        static final JsonSchema SCHEMA = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
                .getSchema(ChangeEventSchema.load(),
                        SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build());
    }

    private static MalformedEventException malformed(String problem, Throwable cause) {
        return new MalformedEventException("Not a valid change event: " + problem, cause);
    }

    /** Jackson's message without the source excerpt, prefixed by the path of the field at fault. */
    private static String describe(IOException e) {
        if (!(e instanceof JsonProcessingException processing)) {
            return e.getMessage();
        }
        String message = processing.getOriginalMessage();
        if (processing instanceof JsonMappingException mapping && !mapping.getPath().isEmpty()) {
            String path = mapping.getPath().stream()
                    .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                    .collect(Collectors.joining(".")).replace(".[", "[");
            return "field " + path + ": " + message;
        }
        return processing.getLocation() == null ? message
                : message + " (line " + processing.getLocation().getLineNr()
                        + ", column " + processing.getLocation().getColumnNr() + ")";
    }
}
