/**
 * Versioned row schemas: the shape of each captured table read from the Postgres catalog ({@link
 * dev.changeflow.capture.schema.TableShapes}), the versions capture registered ({@link
 * dev.changeflow.capture.schema.SchemaVersions}) and their read-only Confluent-style API ({@link
 * dev.changeflow.capture.schema.SchemaAdminRoutes}).
 */
package dev.changeflow.capture.schema;
