package dev.changeflow.indexer.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.changeflow.indexer.index.IndexedDocument;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The stored form of a document, the same in every engine: a JSON object of the document's fields in order, then
 * {@value #VERSION} (the LSN) and {@value #DELETED}. Numbers read back exactly as written: integers as {@link Long},
 * others as {@link java.math.BigDecimal} with their scale.
 */
public final class DocumentJson {
    /** Metadata field: the document's version. */
    public static final String VERSION = "cf_version";
    /** Metadata field: {@code true} for a tombstone. */
    public static final String DELETED = "cf_deleted";

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.USE_LONG_FOR_INTS)
            .build();
    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {
    };

    private DocumentJson() {
    }

    /**
     * A new JSON mapper reading numbers exactly (integers as {@link Long}, decimals as {@link java.math.BigDecimal}),
     * for an engine client to read sources with.
     */
    public static ObjectMapper newMapper() {
        return MAPPER.copy();
    }

    /**
     * The source map of {@code document}: its fields, then the metadata fields.
     *
     * @throws IllegalArgumentException if a field of the document has a metadata field's name
     */
    public static Map<String, Object> sourceOf(IndexedDocument document) {
        if (document.fields().containsKey(VERSION) || document.fields().containsKey(DELETED)) {
            throw new IllegalArgumentException("Document " + document.id() + " has a field named " + VERSION + " or "
                    + DELETED + ", reserved for the index's own use");
        }
        Map<String, Object> source = new LinkedHashMap<>(document.fields());
        source.put(VERSION, document.version());
        source.put(DELETED, document.deleted());
        return source;
    }

    public static byte[] toBytes(IndexedDocument document) {
        try {
            return MAPPER.writeValueAsBytes(sourceOf(document));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Document " + document.id() + " cannot be written as JSON", e);
        }
    }

    /** The document whose source is {@code json}. */
    public static IndexedDocument fromBytes(String id, byte[] json) {
        try {
            return fromSource(id, MAPPER.readValue(json, MAP));
        } catch (IOException e) {
            throw new UncheckedIOException("Stored document " + id + " is not valid JSON", e);
        }
    }

    /**
     * The document whose source map is {@code source}; the metadata fields are taken out of its fields.
     *
     * @throws IllegalStateException if the source has no version: it was not written by Changeflow
     */
    public static IndexedDocument fromSource(String id, Map<String, Object> source) {
        Map<String, Object> fields = source == null ? new LinkedHashMap<>() : new LinkedHashMap<>(source);
        Object version = fields.remove(VERSION);
        Object deleted = fields.remove(DELETED);
        if (!(version instanceof Number number)) {
            throw new IllegalStateException("Stored document " + id + " has no " + VERSION
                    + ": it was not written by Changeflow");
        }
        return new IndexedDocument(id, number.longValue(), Boolean.TRUE.equals(deleted), fields);
    }
}
