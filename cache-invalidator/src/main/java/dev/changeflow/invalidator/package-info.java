/**
 * The consumer group that deletes the Redis keys a change makes stale. Depends on change-router only.
 *
 * <p>{@link dev.changeflow.invalidator.InvalidatorService} is the service:
 *
 * <pre>{@code
 * InvalidatorService invalidator = InvalidatorService.create(Settings.load(), meterRegistry); // checks the rules
 * invalidator.start();   // connects to Redis, joins the group "cache-invalidator"
 * ...
 * invalidator.close();   // finishes the batches in hand, commits, leaves the group
 * }</pre>
 *
 * <p>What to delete is configured by rules: per table, Redis key templates such as {@code task:{id}} and
 * {@code project:{project_id}:tasks}, each evaluated against the row before and after the change (see
 * {@link dev.changeflow.invalidator.InvalidatorSettings#RULES_FILE} and the default rules in
 * {@value dev.changeflow.invalidator.InvalidatorSettings#DEFAULT_RULES_RESOURCE}).
 * {@link dev.changeflow.invalidator.InvalidatorMain} runs the service as a process of its own, and
 * {@link dev.changeflow.invalidator.CacheRules} reads the rules as the service would, for tools that check a
 * migration against the columns they name.
 */
package dev.changeflow.invalidator;
