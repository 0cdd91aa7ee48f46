/**
 * The indexer's internals: how change events become documents ({@link dev.changeflow.indexer.internal.ChangeIndexer}),
 * and the two adapters of the {@link dev.changeflow.indexer.index.SearchIndex} port. Not an API.
 */
package dev.changeflow.indexer.internal;
