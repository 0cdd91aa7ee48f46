/**
 * Implementation of the cache invalidator; not an API. Rules ({@code RulesFile}, {@code KeyTemplate},
 * {@code InvalidationRules}), their check against the database at startup ({@code RulesValidator}) and against the
 * shape of the rows while running ({@code ObservedShapes}, reported by the wrapper {@code RulesRevalidator}); the batch
 * handler that UNLINKs ({@code RedisUnlinker}) over one Lettuce connection ({@code RedisConnector}); the outage
 * classification of Redis failures ({@code RedisOutages}); topic selection and meters.
 */
package dev.changeflow.invalidator.internal;
