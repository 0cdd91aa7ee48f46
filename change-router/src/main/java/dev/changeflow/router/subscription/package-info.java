/**
 * The subscription runtime: how every consumer of change topics subscribes. Build a {@link
 * dev.changeflow.router.subscription.Subscription} with a consumer group, topics and a {@link
 * dev.changeflow.router.subscription.ChangeHandler} or {@link dev.changeflow.router.subscription.BatchHandler}; tune it
 * with {@link dev.changeflow.router.subscription.SubscriptionSettings}. The Kafka client library underneath is not part
 * of this API.
 */
package dev.changeflow.router.subscription;
