package dev.changeflow.router.schema;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The shape of a captured table's rows: its columns in table order, with types and nullability, and its primary key.
 * Two shapes are equal when their columns and key are; that is what makes a new version of a table's row schema.
 * Immutable and thread-safe.
 *
 * <p>{@link #toJsonSchema()} renders it as the JSON Schema (draft-07, which every registry reads) capture registers for the table's topic
 * (subject {@code <topic>-value}): an object whose {@code before} and {@code after} are null or a row with every
 * column; each column's JSON type follows docs/change-event.md (Column values), nullable columns admit null, and
 * {@code x-pg-type}, {@code x-pg-length}, {@code x-pg-scale} and {@code x-pg-default} keep what JSON cannot say.
 * Other fields of the event (the v1 envelope) are allowed and described by the contract's own schema.
 * {@link #fromJsonSchema} reads such a schema back.
 *
 * @param table the qualified table name, such as {@code app.tasks}
 * @param columns the columns in table order; at least one, names unique
 * @param primaryKey the primary key's columns in key order; each one a column; may be empty
 */
public record TableShape(String table, List<ColumnShape> columns, List<String> primaryKey) {
    private static final JsonMapper MAPPER = JsonMapper.builder().build();
    private static final String DRAFT = "http://json-schema.org/draft-07/schema#";

    public TableShape {
        Objects.requireNonNull(table, "table");
        columns = List.copyOf(columns);
        primaryKey = List.copyOf(primaryKey);
        if (columns.isEmpty()) {
            throw new IllegalArgumentException("table " + table + " has no column");
        }
        Set<String> names = new LinkedHashSet<>();
        for (ColumnShape column : columns) {
            if (!names.add(column.name())) {
                throw new IllegalArgumentException("table " + table + " lists column " + column.name() + " twice");
            }
        }
        for (String key : primaryKey) {
            if (!names.contains(key)) {
                throw new IllegalArgumentException("primary key column " + key + " is not a column of " + table);
            }
        }
    }

    /** The column named {@code name}, if the table has it. */
    public Optional<ColumnShape> column(String name) {
        return columns.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    /** The column names, in table order. */
    public List<String> columnNames() {
        return columns.stream().map(ColumnShape::name).toList();
    }

    /** The bare table name, without its schema: {@code tasks} for {@code app.tasks}. */
    public String bareTable() {
        return table.substring(table.indexOf('.') + 1);
    }

    /** The JSON Schema of the table's change events, compact, the same text for equal shapes. */
    public String toJsonSchema() {
        JsonNodeFactory json = JsonNodeFactory.instance;
        ObjectNode row = json.objectNode();
        row.put("type", "object");
        ObjectNode properties = row.putObject("properties");
        ArrayNode required = json.arrayNode();
        for (ColumnShape column : columns) {
            properties.set(column.name(), columnSchema(column));
            required.add(column.name());
        }
        row.set("required", required);

        ObjectNode root = json.objectNode();
        root.put("$schema", DRAFT);
        root.put("title", table);
        root.put("description", "Change events of " + table + " (Changeflow change event contract v1): the before "
                + "and after images of a row with these columns.");
        root.put("type", "object");
        root.put("x-changeflow-table", table);
        ArrayNode key = root.putArray("x-pg-primary-key");
        primaryKey.forEach(key::add);
        ObjectNode envelope = root.putObject("properties");
        for (String image : List.of("before", "after")) {
            ArrayNode oneOf = envelope.putObject(image).putArray("oneOf");
            oneOf.addObject().put("type", "null");
            oneOf.addObject().put("$ref", "#/definitions/row");
        }
        root.putArray("required").add("before").add("after");
        root.putObject("definitions").set("row", row);
        try {
            return MAPPER.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode columnSchema(ColumnShape column) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        boolean array = column.type().startsWith("_");
        String element = array ? column.type().substring(1) : column.type();
        ObjectNode valueSchema;
        if (array) {
            ArrayNode types = node.putArray("type").add("array");
            if (column.nullable()) {
                types.add("null");
            }
            valueSchema = node.putObject("items");
            jsonType(valueSchema, element, null, true);
        } else {
            jsonType(node, element, column.length(), column.nullable());
            valueSchema = node;
        }
        node.put("x-pg-type", column.type());
        if (column.length() != null) {
            node.put("x-pg-length", column.length());
        }
        if (column.scale() != null) {
            node.put("x-pg-scale", column.scale());
        }
        if (column.defaultValue() != null) {
            node.put("x-pg-default", column.defaultValue());
        }
        return node;
    }

    private static void jsonType(ObjectNode node, String type, Integer length, boolean nullable) {
        String jsonType;
        String format = null;
        switch (type) {
            case "int2", "int4", "int8", "oid" -> jsonType = "integer";
            case "numeric", "float4", "float8", "money" -> jsonType = "number";
            case "bool" -> jsonType = "boolean";
            case "uuid" -> {
                jsonType = "string";
                format = "uuid";
            }
            case "timestamptz", "timestamp" -> {
                jsonType = "string";
                format = "date-time";
            }
            case "date" -> {
                jsonType = "string";
                format = "date";
            }
            default -> jsonType = "string";
        }
        if (nullable) {
            node.putArray("type").add(jsonType).add("null");
        } else {
            node.put("type", jsonType);
        }
        if (format != null) {
            node.put("format", format);
        }
        if (length != null && (type.equals("varchar") || type.equals("bpchar"))) {
            node.put("maxLength", length);
        }
    }

    /**
     * The shape a schema written by {@link #toJsonSchema()} describes.
     *
     * @throws IllegalArgumentException if {@code jsonSchema} is not such a schema
     */
    public static TableShape fromJsonSchema(String jsonSchema) {
        JsonNode root;
        try {
            root = MAPPER.readTree(jsonSchema);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
        }
        JsonNode row = root.path("definitions").path("row").path("properties");
        if (!root.hasNonNull("x-changeflow-table") || !row.isObject()) {
            throw new IllegalArgumentException("not a Changeflow row schema: it lacks x-changeflow-table or "
                    + "definitions.row.properties");
        }
        List<ColumnShape> columns = new ArrayList<>();
        row.fields().forEachRemaining(entry -> {
            JsonNode c = entry.getValue();
            JsonNode type = c.path("type");
            boolean nullable = type.isArray() && java.util.stream.StreamSupport.stream(type.spliterator(), false)
                    .anyMatch(t -> t.asText().equals("null"));
            columns.add(new ColumnShape(entry.getKey(), c.path("x-pg-type").asText(),
                    c.hasNonNull("x-pg-length") ? c.get("x-pg-length").asInt() : null,
                    c.hasNonNull("x-pg-scale") ? c.get("x-pg-scale").asInt() : null, nullable,
                    c.hasNonNull("x-pg-default") ? c.get("x-pg-default").asText() : null));
        });
        List<String> key = new ArrayList<>();
        root.path("x-pg-primary-key").forEach(k -> key.add(k.asText()));
        return new TableShape(root.get("x-changeflow-table").asText(), columns, key);
    }
}
