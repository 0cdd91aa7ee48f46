/**
 * {@code changeflow schema check}: what a migration does to the captured tables, found by applying it inside a
 * transaction that is rolled back. {@link dev.changeflow.cli.internal.schema.MigrationScript} splits a Flyway SQL file
 * into statements; {@link dev.changeflow.cli.internal.schema.MigrationCheck} runs them on a connection between two
 * readings of the catalog and turns the differences into
 * {@link dev.changeflow.cli.internal.schema.SchemaFinding}s: shape changes under the table's compatibility mode
 * ({@code dev.changeflow.router.schema.SchemaCompatibility}), cache rules
 * ({@code dev.changeflow.invalidator.CacheRules}), search fields ({@code dev.changeflow.indexer.index.DocumentType})
 * and replica identity.
 */
package dev.changeflow.cli.internal.schema;
