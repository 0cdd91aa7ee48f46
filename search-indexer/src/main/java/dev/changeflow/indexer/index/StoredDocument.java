package dev.changeflow.indexer.index;

import java.util.Objects;

/**
 * A document read back from the index with the revision it was read at; pass the revision to
 * {@link SearchIndex#write} to replace it only if nobody else did in between.
 */
public record StoredDocument(IndexedDocument document, Revision revision) {
    public StoredDocument {
        Objects.requireNonNull(document, "document");
        Objects.requireNonNull(revision, "revision");
    }
}
