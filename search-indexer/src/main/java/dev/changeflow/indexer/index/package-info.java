/**
 * The search index port: what the indexer needs from a search engine, and nothing more. Two adapters implement it,
 * Lucene (embedded, the default) and OpenSearch (production); the same behaviour suite runs against both.
 *
 * <p>The port is deliberately small and dumb. It stores whole documents, reads them back in real time, and writes
 * them only on a matching {@link dev.changeflow.indexer.index.Revision} (compare-and-set). Every decision about
 * versions, tombstones and the project name carried by task documents is taken once, above the port, so that the two
 * engines cannot disagree about it.
 */
package dev.changeflow.indexer.index;
