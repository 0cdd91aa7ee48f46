package dev.changeflow.indexer.index;

/**
 * Which write of a document a reader saw, for compare-and-set: a write naming a revision succeeds only if the
 * document is still at that revision. Opaque to callers; adapters fill it from what their engine offers
 * (OpenSearch: sequence number and primary term).
 *
 * @param seqNo the engine's sequence number of the write
 * @param primaryTerm the engine's primary term of the write (0 where the engine has none)
 */
public record Revision(long seqNo, long primaryTerm) {
}
