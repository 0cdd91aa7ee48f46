package dev.changeflow.invalidator.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads invalidation rules from YAML:
 *
 * <pre>{@code
 * tables:
 *   tasks:
 *     - "task:{id}"
 *     - "project:{project_id}:tasks"
 *   projects:
 *     - "project:{id}"
 * }</pre>
 *
 * <p>Strict: the document has exactly one top-level key, {@code tables}; each table is a bare lower-case name
 * ({@code tasks}, not {@code app.tasks}) with a non-empty list of template strings; no key appears twice; every
 * template parses ({@link KeyTemplate}). Whether tables and columns exist is checked later, against the database
 * ({@link RulesValidator}). Stateless.
 */
public final class RulesFile {
    private static final Pattern TABLE = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    private static final YAMLMapper YAML = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .build();

    private RulesFile() {
    }

    /**
     * Reads the rules in the file at {@code path}.
     *
     * @throws InvalidRulesException naming the file and what is wrong, including a file that cannot be read
     */
    public static InvalidationRules read(Path path) {
        String source = path.toString();
        String yaml;
        try {
            yaml = Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new InvalidRulesException(source, "no such file");
        } catch (IOException e) {
            throw new InvalidRulesException(source, "cannot be read: " + e.getMessage());
        }
        return parse(source, yaml);
    }

    /**
     * Reads the rules in the classpath resource {@code resource}; their source is {@code classpath:<resource>}.
     *
     * @throws InvalidRulesException if the resource is missing or invalid
     */
    public static InvalidationRules readResource(String resource) {
        String source = "classpath:" + resource;
        try (InputStream in = RulesFile.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new InvalidRulesException(source, "no such resource");
            }
            return parse(source, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new InvalidRulesException(source, "cannot be read: " + e.getMessage());
        }
    }

    /**
     * Parses {@code yaml}.
     *
     * @param source where it comes from, for messages
     * @throws InvalidRulesException naming the source, the table and the template at fault
     */
    public static InvalidationRules parse(String source, String yaml) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
            // SnakeYAML's message spans lines: what it was parsing, an excerpt, what it expected. Keep the sentences.
            String problem = e.getOriginalMessage().lines()
                    .filter(line -> !line.isBlank() && !Character.isWhitespace(line.charAt(0)))
                    .collect(Collectors.joining(": "));
            throw new InvalidRulesException(source, "is not valid YAML" + where + ": " + problem);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            throw new InvalidRulesException(source, "is empty; it needs a 'tables' mapping");
        }
        if (!root.isObject()) {
            throw new InvalidRulesException(source, "must be a mapping with the single key 'tables'");
        }
        for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals("tables")) {
                throw new InvalidRulesException(source, "has an unknown top-level key '" + name
                        + "'; the only one is 'tables'");
            }
        }
        JsonNode tables = root.get("tables");
        if (tables == null || !tables.isObject() || tables.isEmpty()) {
            throw new InvalidRulesException(source, "'tables' must map at least one table to its key templates");
        }
        Map<String, List<KeyTemplate>> rules = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = tables.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String table = entry.getKey();
            if (!TABLE.matcher(table).matches()) {
                throw new InvalidRulesException(source, "table '" + table + "' is not a bare lower-case table name"
                        + (table.contains(".") ? "; write it without its schema, such as tasks" : ""));
            }
            rules.put(table, templates(source, table, entry.getValue()));
        }
        return new InvalidationRules(source, rules);
    }

    private static List<KeyTemplate> templates(String source, String table, JsonNode list) {
        if (!list.isArray() || list.isEmpty()) {
            throw new InvalidRulesException(source, "table " + table + " must have a list of at least one key "
                    + "template, such as - \"" + table + ":{id}\"");
        }
        List<KeyTemplate> templates = new ArrayList<>();
        for (JsonNode item : list) {
            if (!item.isTextual()) {
                throw new InvalidRulesException(source, "table " + table + ": key template " + item
                        + " is not a string; quote it (a template that starts with { reads as a YAML mapping)");
            }
            String text = item.textValue();
            KeyTemplate template;
            try {
                template = KeyTemplate.parse(text);
            } catch (KeyTemplate.InvalidTemplateException e) {
                throw new InvalidRulesException(source, "table " + table + ", template \"" + text + "\" "
                        + e.getMessage());
            }
            if (templates.contains(template)) {
                throw new InvalidRulesException(source, "table " + table + ", template \"" + text
                        + "\" is listed twice");
            }
            templates.add(template);
        }
        return templates;
    }

    /** Rules that cannot be used; the message is one line: {@code rules <source>: <problem>}. */
    public static final class InvalidRulesException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        public InvalidRulesException(String source, String problem) {
            super("rules " + source + ": " + problem);
        }
    }
}
