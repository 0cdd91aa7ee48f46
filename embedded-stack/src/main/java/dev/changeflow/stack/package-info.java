/**
 * Real Postgres, Kafka and Redis servers for tests and the demo, started from Maven artifacts without Docker, or external servers given by URL. See SharedServers for the per-JVM instances tests use.
 */
package dev.changeflow.stack;
