package dev.changeflow.invalidator.internal;

import dev.changeflow.router.ChangeEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * The invalidator's meters. Thread-safe.
 *
 * <ul>
 *   <li>{@value #KEYS_REQUESTED}: keys sent in UNLINK commands (distinct per batch);
 *   <li>{@value #KEYS_UNLINKED}: keys UNLINK reported as removed, that is keys that were cached;
 *   <li>{@value #COMMIT_TO_INVALIDATED}: per streamed event, from its transaction's commit in Postgres to the end
 *       of the UNLINK that invalidated its keys (snapshot reads are left out: their timestamp is the snapshot's);
 *   <li>{@value #RULES_BROKEN}{@code {table,template}}: a gauge per key template, 1 while a migration has left the
 *       table's rows without a column the template names (it yields no key), else 0; kept by
 *       {@link RulesRevalidator}.
 * </ul>
 */
public final class InvalidatorMetrics {
    public static final String KEYS_REQUESTED = "changeflow.invalidator.keys.requested";
    public static final String KEYS_UNLINKED = "changeflow.invalidator.keys.unlinked";
    public static final String COMMIT_TO_INVALIDATED = "changeflow.invalidator.commit.to.invalidated";
    public static final String RULES_BROKEN = "changeflow.invalidator.rules.broken";

    private final Counter requested;
    private final Counter unlinked;
    private final Timer commitToInvalidated;
    private final Clock clock;

    public InvalidatorMetrics(MeterRegistry registry, Clock clock) {
        this.clock = clock;
        this.requested = Counter.builder(KEYS_REQUESTED)
                .description("Redis keys sent in UNLINK commands")
                .baseUnit("keys")
                .register(registry);
        this.unlinked = Counter.builder(KEYS_UNLINKED)
                .description("Redis keys UNLINK removed (keys that were cached)")
                .baseUnit("keys")
                .register(registry);
        this.commitToInvalidated = Timer.builder(COMMIT_TO_INVALIDATED)
                .description("From a change's commit in Postgres to the end of the UNLINK of its keys")
                .publishPercentiles(0.5, 0.95, 0.99)
                .publishPercentileHistogram()
                .register(registry);
    }

    /** Records a finished batch: keys sent and removed, and each streamed event's commit-to-invalidated time. */
    void batchDone(List<ChangeEvent> events, int keysRequested, long keysUnlinked) {
        requested.increment(keysRequested);
        unlinked.increment(keysUnlinked);
        var now = clock.instant();
        for (ChangeEvent event : events) {
            if (!event.source().snapshot()) {
                Duration elapsed = Duration.between(event.source().commitTs(), now);
                commitToInvalidated.record(elapsed.isNegative() ? Duration.ZERO : elapsed);
            }
        }
    }
}
