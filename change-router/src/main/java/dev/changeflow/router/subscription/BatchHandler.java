package dev.changeflow.router.subscription;

import dev.changeflow.router.ChangeEvent;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * Applies a batch of change events in one go (one Redis round trip, one bulk request). A batch holds events of
 * several partitions, each partition's events in offset order; batches of the same partition are handled one after
 * the other. The offsets of a batch are committed only after the returned {@code Mono} has completed.
 *
 * <p>If the batch fails with an error that is not an outage, the subscription does not retry the batch as a whole: it
 * hands each of its events to this handler again as a batch of one, with the usual retries and dead-lettering, so that
 * one poison event cannot hold back the others. An outage is retried, batch and all, without limit.
 */
@FunctionalInterface
public interface BatchHandler {

    /**
     * @param events at least one decoded, schema-checked event; never null, not modifiable
     * @return completes when the effect of every event is durable; never null
     */
    Mono<Void> handle(List<ChangeEvent> events);
}
