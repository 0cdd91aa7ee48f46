package dev.changeflow.indexer.index;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A document as stored: a row's columns (plus, for tasks, the copied project name), the version of the row it was
 * built from, and whether it is a tombstone.
 *
 * <p>A <b>tombstone</b> is what a delete leaves: a document with no fields, flagged deleted, carrying the delete's
 * version. It is never returned by searches, but it stays in the index so that an older change replayed later (a
 * create or update of the deleted row) is recognised as older and ignored. Tombstones are real documents in every
 * engine, never the engine's own delete: OpenSearch forgets the version of a deleted document after
 * {@code index.gc_deletes}, a tombstone document is never forgotten.
 *
 * @param id the row's primary key
 * @param version the LSN of the change the document was built from; compared as unsigned
 * @param deleted {@code true} for a tombstone
 * @param fields the row's columns and derived fields, in column order; empty for a tombstone; values are
 *     {@code null}, {@link String}, {@link Boolean}, {@link Long}, {@link java.math.BigDecimal} or lists of these
 */
public record IndexedDocument(String id, long version, boolean deleted, Map<String, Object> fields) {

    public IndexedDocument {
        Objects.requireNonNull(id, "id");
        fields = deleted ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    /** A live document. */
    public static IndexedDocument live(String id, long version, Map<String, Object> fields) {
        return new IndexedDocument(id, version, false, fields);
    }

    /** A tombstone: the row was deleted by the change at {@code version}. */
    public static IndexedDocument tombstone(String id, long version) {
        return new IndexedDocument(id, version, true, Map.of());
    }

    /** Whether this document was built from a later change than {@code other}'s (unsigned LSN comparison). */
    public boolean isNewerThan(long otherVersion) {
        return Long.compareUnsigned(version, otherVersion) > 0;
    }

    /** Field value, or null. */
    public Object field(String name) {
        return fields.get(name);
    }
}
