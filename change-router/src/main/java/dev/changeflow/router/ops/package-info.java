/**
 * Operator tooling shared by the {@code changeflow} commands and the admin HTTP API: consumer lag, offset resets,
 * dead-letter replay and progress display. Every operation here works against Kafka directly; none needs a running
 * Changeflow service.
 */
package dev.changeflow.router.ops;
