/**
 * Implementation of the cache invalidator; not an API. Rules ({@code RulesFile}, {@code KeyTemplate},
 * {@code InvalidationRules}) and their check against the database ({@code RulesValidator}); the batch handler that
 * UNLINKs ({@code RedisUnlinker}) over one Lettuce connection ({@code RedisConnector}); the outage classification of
 * Redis failures ({@code RedisOutages}); topic selection and meters.
 */
package dev.changeflow.invalidator.internal;
