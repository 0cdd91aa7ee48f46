/**
 * Kafka administration shared by producers and consumers: creating topics with the configured durability
 * ({@link dev.changeflow.router.topics.TopicProvisioner}) and reading a consumer group's lag
 * ({@link dev.changeflow.router.topics.ConsumerLag}).
 */
package dev.changeflow.router.topics;
