/**
 * Real Postgres, Kafka and Redis servers for tests and the demo, started from Maven artifacts without Docker, or external servers given by URL. See SharedServers for the per-JVM instances tests use.
 *
 * <p>Servers started with {@code start(Settings)} are throw-away: fresh directories under a temporary root, deleted on
 * close, random ports. For the demo, {@link dev.changeflow.stack.PostgresServer#startPersistent},
 * {@link dev.changeflow.stack.KafkaServer#startPersistent} and {@link dev.changeflow.stack.RedisServer#startLocal}
 * keep their files in a directory the caller chooses (one per server), so that a restart resumes where the last run
 * stopped, on the ports the caller chooses. Each directory is locked while its server runs; what a JVM killed with
 * {@code -9} left running there is stopped by the next start. Close them in reverse order of start, from a shutdown
 * hook: a terminal's Ctrl-C reaches redis-server (it shares the JVM's process group) but not Postgres (pg_ctl puts
 * the postmaster in a session of its own), and Kafka runs inside the JVM.
 */
package dev.changeflow.stack;
