/**
 * Backfills while streaming: incremental snapshots of captured tables, requested through Debezium's signalling table
 * ({@link dev.changeflow.capture.snapshot.Backfills}), with their admin routes.
 */
package dev.changeflow.capture.snapshot;
