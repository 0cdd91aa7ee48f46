/**
 * The app schema: Flyway migrations (packaged from db/migrations) and preflight checks of a Postgres server.
 */
package dev.changeflow.db;
