package dev.changeflow.indexer.index;

import java.util.List;
import java.util.Map;

/**
 * The kinds of document in the index, one per captured table, each with the fields it names and how they are
 * searched. Every other column of the row, including one added by a migration while the indexer runs, is searchable
 * too, as {@link FieldKind#TEXT} of its value's string form ({@link #isDynamicColumn}): numbers in decimal notation,
 * booleans {@code true}/{@code false}, each element of an array. A column whose type changes therefore indexes the
 * same way before and after the change. Columns named with {@link #RESERVED_PREFIX} are kept but not indexed.
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

    /**
     * Prefix of the engines' own fields ({@code cf_version}, {@code cf_deleted}, and in Lucene {@code cf_source},
     * {@code cf_seq}, {@code cf_id_sort}). A column whose name starts with it is kept in the document but never
     * indexed, so it cannot clash with them; {@code cf_version} and {@code cf_deleted} themselves are refused as column
     * names (the write fails for good, see {@code DocumentJson}).
     */
    public static final String RESERVED_PREFIX = "cf_";

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

    /**
     * Whether {@code field} of a document of this type is indexed as dynamic text: it is neither one of
     * {@link #fields()}, nor {@link #PROJECT_VERSION} of a task (a number kept by the indexer), nor named with
     * {@link #RESERVED_PREFIX}. Such a field is searched as {@link FieldKind#TEXT} of its value's string form, in every
     * engine, whatever the type of its values.
     */
    public boolean isDynamicColumn(String field) {
        return !fields.containsKey(field) && !field.startsWith(RESERVED_PREFIX)
                && !(this == TASKS && field.equals(PROJECT_VERSION));
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
