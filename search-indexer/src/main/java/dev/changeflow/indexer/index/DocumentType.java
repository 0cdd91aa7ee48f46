package dev.changeflow.indexer.index;

import java.util.List;
import java.util.Map;

/**
 * The kinds of document in the index, one per captured table, each with the fields that are searchable. Every other
 * column of the row is kept in the document but not indexed.
 *
 * <p>Field kinds are the same in every engine: {@link FieldKind#TEXT} fields are analysed with the standard analyzer
 * (lowercased words), {@link FieldKind#KEYWORD} fields match exactly, as written in the row.
 */
public enum DocumentType {
    /** A row of {@code app.tasks}, with the name of its project ({@link #PROJECT_NAME}) copied in. */
    TASKS("tasks", Map.of(
            "id", FieldKind.KEYWORD,
            "project_id", FieldKind.KEYWORD,
            "title", FieldKind.TEXT,
            "description", FieldKind.TEXT,
            "status", FieldKind.KEYWORD,
            "priority", FieldKind.KEYWORD,
            "assignee", FieldKind.KEYWORD,
            "due_date", FieldKind.KEYWORD,
            "project_name", FieldKind.TEXT),
            List.of("title", "description", "project_name")),
    /** A row of {@code app.projects}. */
    PROJECTS("projects", Map.of(
            "id", FieldKind.KEYWORD,
            "organization_id", FieldKind.KEYWORD,
            "name", FieldKind.TEXT),
            List.of("name"));

    /** Field of a task document holding its project's name; searchable, for example {@code project_name:apollo}. */
    public static final String PROJECT_NAME = "project_name";

    /**
     * Field of a task document holding the version (LSN) of the project row its {@link #PROJECT_NAME} was copied
     * from; 0 while the project is unknown.
     */
    public static final String PROJECT_VERSION = "project_version";

    /** How a field is indexed. */
    public enum FieldKind {
        /** Analysed text: words, lowercased. */
        TEXT,
        /** Exact value, as written. */
        KEYWORD
    }

    private final String table;
    private final Map<String, FieldKind> fields;
    private final List<String> defaultFields;

    DocumentType(String table, Map<String, FieldKind> fields, List<String> defaultFields) {
        this.table = table;
        this.fields = fields;
        this.defaultFields = defaultFields;
    }

    /** The captured table, without schema, and the name of the document type in URLs and index names. */
    public String table() {
        return table;
    }

    /** The searchable fields and how each is indexed. */
    public Map<String, FieldKind> fields() {
        return fields;
    }

    /** The fields a query searches when it names none, such as {@code title} and {@code description}. */
    public List<String> defaultFields() {
        return defaultFields;
    }

    /** The type of {@code table}'s rows, if it is indexed. */
    public static java.util.Optional<DocumentType> ofTable(String table) {
        for (DocumentType type : values()) {
            if (type.table.equals(table)) {
                return java.util.Optional.of(type);
            }
        }
        return java.util.Optional.empty();
    }
}
