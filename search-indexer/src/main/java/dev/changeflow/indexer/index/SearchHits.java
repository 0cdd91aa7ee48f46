package dev.changeflow.indexer.index;

import java.util.List;

/**
 * The result of a search: how many live documents match and the best {@code hits}, best first.
 *
 * @param total how many documents match (exact)
 * @param hits at most the requested number of documents, by descending score, ties by id
 */
public record SearchHits(long total, List<Hit> hits) {
    public SearchHits {
        hits = List.copyOf(hits);
    }

    /** One matching document and its relevance score (engine-specific scale). */
    public record Hit(IndexedDocument document, double score) {
    }
}
