package dev.changeflow.router.subscription;

import dev.changeflow.router.ChangeEvent;
import reactor.core.publisher.Mono;

/**
 * Applies one change event. The subscription calls it for each event of a partition in order, one at a time per
 * partition, and commits the event's offset only after the returned {@code Mono} has completed.
 *
 * <p>The handler must be idempotent: after a rebalance or a crash an event can be delivered again. Signal failure
 * through the {@code Mono} (or by throwing): a failure is retried, then dead-lettered; a failure that
 * {@link Outages#isOutage classifies as an outage} is retried without limit and never dead-lettered.
 */
@FunctionalInterface
public interface ChangeHandler {

    /**
     * @param event the decoded, schema-checked event; never null
     * @return completes when the effect is durable; never null
     */
    Mono<Void> handle(ChangeEvent event);
}
