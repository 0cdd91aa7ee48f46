/**
 * The search indexer: a consumer group that keeps a search index equal to the database, even under replays and
 * reordering, and serves searches over HTTP. {@link dev.changeflow.indexer.IndexerService} is the service and its
 * lifecycle, {@link dev.changeflow.indexer.IndexerSettings} its settings, {@link dev.changeflow.indexer.IndexerMain}
 * the process. The engine sits behind the {@link dev.changeflow.indexer.index.SearchIndex} port (embedded Lucene or
 * OpenSearch); everything else is in {@code internal}. Depends on change-router; never on capture or on another
 * consumer.
 */
package dev.changeflow.indexer;
