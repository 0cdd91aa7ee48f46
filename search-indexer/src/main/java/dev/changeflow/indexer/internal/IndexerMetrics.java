package dev.changeflow.indexer.internal;

import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.router.ChangeEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The indexer's meters. Thread-safe.
 *
 * <ul>
 *   <li>{@value #DOCUMENTS}{@code {type, outcome}}: document writes by outcome: {@code applied}, {@code duplicate}
 *       (the same change again: a redelivery or replay), {@code stale} (an older change, ignored);
 *   <li>{@value #PROPAGATED}: task documents whose project name a project change updated;
 *   <li>{@value #COMMIT_TO_INDEXED}: per streamed event, from its transaction's commit in Postgres to its document
 *       being durable in the index (snapshot reads are left out: their timestamp is the snapshot's).
 * </ul>
 */
public final class IndexerMetrics {
    public static final String DOCUMENTS = "changeflow.indexer.documents";
    public static final String PROPAGATED = "changeflow.indexer.project.name.propagated";
    public static final String COMMIT_TO_INDEXED = "changeflow.indexer.commit.to.indexed";

    private final Map<DocumentType, Map<Outcome, Counter>> documents = new EnumMap<>(DocumentType.class);
    private final Counter propagated;
    private final Timer commitToIndexed;
    private final Clock clock;

    public IndexerMetrics(MeterRegistry registry, Clock clock) {
        this.clock = clock;
        for (DocumentType type : DocumentType.values()) {
            Map<Outcome, Counter> byOutcome = new EnumMap<>(Outcome.class);
            for (Outcome outcome : Outcome.values()) {
                byOutcome.put(outcome, Counter.builder(DOCUMENTS)
                        .description("Document writes to the search index, by outcome")
                        .tag("type", type.table())
                        .tag("outcome", outcome.name().toLowerCase(java.util.Locale.ROOT))
                        .register(registry));
            }
            documents.put(type, byOutcome);
        }
        this.propagated = Counter.builder(PROPAGATED)
                .description("Task documents given their project's new name")
                .register(registry);
        this.commitToIndexed = Timer.builder(COMMIT_TO_INDEXED)
                .description("From a change's commit in Postgres to its document being durable in the index")
                .publishPercentiles(0.5, 0.95, 0.99)
                .publishPercentileHistogram()
                .register(registry);
    }

    void written(DocumentType type, Collection<Outcome> outcomes) {
        Map<Outcome, Counter> counters = documents.get(type);
        outcomes.forEach(o -> counters.get(o).increment());
    }

    void propagated(int tasks) {
        propagated.increment(tasks);
    }

    void indexed(List<ChangeEvent> events) {
        var now = clock.instant();
        for (ChangeEvent event : events) {
            if (!event.source().snapshot()) {
                Duration elapsed = Duration.between(event.source().commitTs(), now);
                commitToIndexed.record(elapsed.isNegative() ? Duration.ZERO : elapsed);
            }
        }
    }
}
