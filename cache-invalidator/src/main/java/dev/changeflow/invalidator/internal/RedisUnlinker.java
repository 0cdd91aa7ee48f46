package dev.changeflow.invalidator.internal;

import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.subscription.BatchHandler;
import io.lettuce.core.api.reactive.RedisKeyReactiveCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Deletes the keys a batch of changes makes stale: the distinct keys of all its events ({@link InvalidationRules}),
 * in UNLINK commands of at most {@code chunkSize} keys each, sent together on one pipelined connection, so a whole
 * batch costs one round trip, or a few for very large batches. UNLINK frees memory in the background and deleting a
 * key twice is harmless, so a redelivered batch is handled the same way again. Thread-safe.
 *
 * <p>Completes after every UNLINK succeeded; fails with the first Redis error otherwise (some chunks may have been
 * applied: a retry applies them again). Which errors are outages is {@link RedisConnector#classify}'s call. Cancelling the returned {@code Mono} (a handler timeout, a shutdown) uses
 * Lettuce's own cancellation: the commands' replies are discarded, the connection stays in sync and no thread is
 * interrupted.
 */
public final class RedisUnlinker implements BatchHandler {
    private final InvalidationRules rules;
    private final Supplier<? extends RedisKeyReactiveCommands<String, String>> redis;
    private final int chunkSize;
    private final InvalidatorMetrics metrics;

    /**
     * @param redis commands on the current connection, whose command timeout and disconnected behaviour are set (see
     *     {@link RedisConnector}); asked for each batch, so a reopened connection is used at once
     * @param chunkSize most keys per UNLINK, at least 1
     */
    public RedisUnlinker(InvalidationRules rules, Supplier<? extends RedisKeyReactiveCommands<String, String>> redis,
            int chunkSize,
            InvalidatorMetrics metrics) {
        if (chunkSize < 1) {
            throw new IllegalArgumentException("chunkSize must be at least 1: " + chunkSize);
        }
        this.rules = rules;
        this.redis = redis;
        this.chunkSize = chunkSize;
        this.metrics = metrics;
    }

    @Override
    public Mono<Void> handle(List<ChangeEvent> events) {
        return Mono.defer(() -> {
            Set<String> keys = rules.keysFor(events);
            RedisKeyReactiveCommands<String, String> commands = redis.get();
            Mono<Long> removed = keys.isEmpty() ? Mono.just(0L)
                    : Flux.fromIterable(chunks(keys, chunkSize))
                            .flatMap(chunk -> commands.unlink(chunk.toArray(String[]::new)))
                            .reduce(0L, Long::sum);
            return removed.doOnNext(count -> metrics.batchDone(events, keys.size(), count)).then();
        });
    }

    /** {@code keys} in order, cut into lists of at most {@code size}. */
    static List<List<String>> chunks(Set<String> keys, int size) {
        List<List<String>> chunks = new ArrayList<>((keys.size() + size - 1) / size);
        List<String> current = new ArrayList<>(Math.min(size, keys.size()));
        for (String key : keys) {
            current.add(key);
            if (current.size() == size) {
                chunks.add(current);
                current = new ArrayList<>(Math.min(size, keys.size()));
            }
        }
        if (!current.isEmpty()) {
            chunks.add(current);
        }
        return chunks;
    }
}
