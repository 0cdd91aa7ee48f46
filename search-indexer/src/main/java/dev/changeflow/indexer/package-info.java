/**
 * The consumer group that keeps a search index equal to the database. Depends on change-router only.
 */
package dev.changeflow.indexer;
