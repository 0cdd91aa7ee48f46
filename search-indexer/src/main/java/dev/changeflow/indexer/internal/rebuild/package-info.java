/**
 * Rebuilding the search index into a new generation while the live one serves:
 * {@link dev.changeflow.indexer.internal.rebuild.SearchRebuild} (the procedure and its guarantees) and the Kafka reader
 * it uses. Started by {@link dev.changeflow.indexer.IndexerService#rebuild}. Not an API.
 */
package dev.changeflow.indexer.internal.rebuild;
