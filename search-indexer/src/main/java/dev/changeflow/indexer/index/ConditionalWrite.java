package dev.changeflow.indexer.index;

import java.util.Objects;

/**
 * Store {@code document} (live or tombstone) as the document of its type and id, only if the stored one is still at
 * {@code expected}; {@code expected == null} means only if there is no document with that id yet.
 */
public record ConditionalWrite(DocumentType type, IndexedDocument document, Revision expected) {
    public ConditionalWrite {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(document, "document");
    }
}
