/**
 * The consumer group that deletes the Redis keys a change makes stale. Depends on change-router only.
 */
package dev.changeflow.invalidator;
