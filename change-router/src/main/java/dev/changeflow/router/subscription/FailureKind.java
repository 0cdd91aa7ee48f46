package dev.changeflow.router.subscription;

/**
 * What a handler's failure means, and so what the subscription does about it. A {@link Dependency} decides it for the
 * errors of its resource; {@link Outages} for the errors every consumer shares.
 */
public enum FailureKind {
    /**
     * A server the handler depends on is unreachable, overloaded or slow (Redis down, Kafka down, OpenSearch 503, a
     * handler timeout): waiting heals it. Retried with backoff without limit, never dead-lettered; the subscription
     * reports a stall once it lasts longer than {@link SubscriptionOptions#stallLimit()}.
     */
    OUTAGE,
    /**
     * A resource of the process itself is closed or corrupted for good (a closed Lucene {@code IndexWriter}, a
     * closed client): waiting never heals it. The subscription asks the {@link Dependency} to reopen it and tries
     * again; if it cannot be reopened, the subscription fails, so the service's {@code /health} turns 503 and its
     * process exits non-zero.
     */
    BROKEN,
    /**
     * The work itself is at fault (an event the target refuses): retried {@link SubscriptionOptions#retries()} times,
     * then the event goes to the dead-letter topic.
     */
    FAULT
}
