package dev.changeflow.router.subscription;

import dev.changeflow.router.internal.subscription.ReactorKafkaSubscription;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.apache.kafka.common.TopicPartition;

/**
 * A running consumer group member that hands change events to a handler: the one way every Changeflow consumer,
 * and every downstream team, subscribes to change topics.
 *
 * <p>Guarantees: events of a partition (so of a key) are handled in order, one at a time; partitions are handled
 * concurrently ({@link SubscriptionOptions#concurrency()} at a time); at most {@link SubscriptionOptions#maxInFlight()}
 * records are fetched and unfinished; an offset is committed only after the handler's {@code Mono} completed (or the
 * record was dead-lettered). A failing handler call is retried ({@link SubscriptionOptions#retries()}, exponential
 * backoff), then the record goes to {@code <topic>.dlt} with {@link DeadLetterHeaders} and its partition moves on. A
 * record that is not a valid change event goes there at once. An {@link Outages outage} is retried without limit and
 * never dead-lettered. A {@link Dependency resource broken for good} is reopened, or the subscription fails
 * ({@link FailureKind}). The dead-letter topics are created at start if missing, like their source topic.
 *
 * <p>Cancellation: a handler call that overruns {@link SubscriptionOptions#handlerTimeout()}, and the calls running
 * when the subscription closes, have their {@code Mono} cancelled; the runtime never interrupts a thread. A handler
 * that blocks on I/O an interrupt could break runs it on {@link BlockingWork}.
 *
 * <p>Liveness: a partition with records waiting that makes no progress for {@link SubscriptionOptions#stallLimit()}
 * is reported by {@link #stall()}, with the last failure as its reason.
 *
 * <pre>{@code
 * try (Subscription subscription = Subscription.builder(bootstrap, "my-group")
 *         .topics("cdc.tasks-changes")
 *         .onEach(event -> Mono.fromRunnable(() -> System.out.println(event.op() + " " + event.key())))
 *         .start()) {
 *     subscription.whenTerminated().join();
 * }
 * }</pre>
 *
 * <p>State topics: a team that joins late bootstraps from the compacted state topics
 * ({@link dev.changeflow.router.StateTopics}) instead: {@link Builder#fromState} subscribes the group to them, from
 * their beginning, and {@link #caughtUpWithState()} says when the initial load is done. The state topic holds the
 * latest event of every row, so the handler sees each live row's latest change and the deletes not yet compacted away;
 * afterwards it keeps following the state topic, with every guarantee above.
 *
 * <pre>{@code
 * try (Subscription subscription = Subscription.builder(bootstrap, "late-team")
 *         .fromState("task.state.snapshots")
 *         .onEach(event -> Mono.fromRunnable(() -> copy.apply(event)))
 *         .start()) {
 *     subscription.caughtUpWithState().join(); // every row present at start is in the copy
 *     subscription.whenTerminated().join();
 * }
 * }</pre>
 *
 * <p>Thread-safe. The Kafka client library underneath is an implementation detail.
 */
public interface Subscription extends AutoCloseable {

    /** Starts describing a subscription of consumer group {@code group} on the cluster at {@code bootstrapServers}. */
    static Builder builder(String bootstrapServers, String group) {
        return new Builder(bootstrapServers, group);
    }

    /** The consumer group. */
    String group();

    /** The partitions this member holds right now; empty before the first assignment. Never null. */
    Set<TopicPartition> assignment();

    /**
     * Asks the group to rebalance (Kafka's {@code enforceRebalance}): this member rejoins, and partitions may move
     * between members, as when one joins or leaves. Records in flight on a partition that moves finish and are
     * committed first, as on any revocation. The rebalance happens on the consumer's next poll.
     *
     * @return completes once the consumer accepted the request; exceptionally if it could not (the subscription is
     *     closing, or Kafka's consumer refused)
     */
    java.util.concurrent.CompletableFuture<Void> requestRebalance();

    /**
     * The partition stalled longest, if one is: it has records waiting (lag or records in flight) and none of them
     * finished for longer than {@link SubscriptionOptions#stallLimit()}. Empty while every partition moves or is
     * caught up, and once the subscription has terminated.
     */
    java.util.Optional<Stall> stall();

    /**
     * Completes once the group has caught up with the state topics: for every partition of the state topics, the
     * group's committed offset has reached the end offset the partition had for a {@code read_committed} reader (its
     * last stable offset) when this subscription started. So every state record written before the start has been
     * handled, or dead-lettered, by this member or another of the group. It completes at once if the partitions were
     * empty or the group had caught up before; otherwise within about a
     * {@link SubscriptionOptions#commitInterval() commit interval} plus a {@link SubscriptionOptions#lagInterval() lag
     * interval} of the last record being handled. Records written after the start are not waited for. When it
     * completes normally, actions chained to it do not run on the Kafka consumer's thread.
     *
     * <p>Completes exceptionally if the subscription terminates first: with its error, or an
     * {@link IllegalStateException} when it was closed. The same future on every call; never null.
     *
     * @throws IllegalStateException if the subscription was built without {@link Builder#fromState}
     */
    CompletableFuture<Void> caughtUpWithState();

    /** Records fetched from Kafka and not yet finished, now. */
    int inFlight();

    /** The highest {@link #inFlight()} seen since start. */
    int peakInFlight();

    /**
     * Completes normally after {@link #close()} has finished, exceptionally if the subscription stopped on an error it
     * cannot retry (for example an authorization failure). Never null.
     */
    CompletableFuture<Void> whenTerminated();

    /**
     * Stops gracefully: no new record is started, records being handled finish (within
     * {@link SubscriptionOptions#shutdownTimeout()}), their offsets are committed, and the consumer leaves its group.
     * Idempotent; returns when done.
     */
    @Override
    void close();

    /** What to subscribe to and how. Not thread-safe; {@link #start()} may be called once. */
    final class Builder {
        private final String bootstrapServers;
        private final String group;
        private final List<String> topics = new ArrayList<>();
        private final List<String> stateTopics = new ArrayList<>();
        private ChangeHandler eventHandler;
        private BatchHandler batchHandler;
        private SubscriptionOptions options = SubscriptionOptions.defaults();
        private Predicate<Throwable> outage = t -> false;
        private Dependency dependency;
        private MeterRegistry meters = new SimpleMeterRegistry();
        private final Map<String, Object> kafkaProperties = new HashMap<>();

        private Builder(String bootstrapServers, String group) {
            this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            this.group = Objects.requireNonNull(group, "group");
        }

        /** Adds topics to subscribe to. They must exist (startup waits {@link SubscriptionOptions#startupTimeout()}). */
        public Builder topics(String... names) {
            topics.addAll(List.of(names));
            return this;
        }

        /** Adds topics to subscribe to. */
        public Builder topics(List<String> names) {
            topics.addAll(names);
            return this;
        }

        /**
         * Subscribes to compacted state topics ({@link dev.changeflow.router.StateTopics}, named by
         * {@link dev.changeflow.router.RouterSettings#STATE_TOPICS}) instead of change topics: to bootstrap a
         * consumer with the current state of every row, then follow it. Exclusive with {@link #topics}. Differences
         * from change topics:
         * <ul>
         * <li>a group without committed offsets starts at the earliest offset, whatever
         *     {@link SubscriptionOptions#autoOffsetReset()} says;</li>
         * <li>a tombstone (a deleted row) reaches the handler as the delete event in its
         *     {@link dev.changeflow.router.StateTopics#DELETE_EVENT_HEADER} header; a tombstone without that header, or
         *     whose header holds no delete event, is malformed and goes to {@code <topic>.dlt} at once, with reason
         *     {@link DeadLetterHeaders#REASON_UNDECODABLE};</li>
         * <li>{@link Subscription#caughtUpWithState()} tells when the rows present at start have been handled.</li>
         * </ul>
         * Order, retries, dead-lettering, commits and {@code read_committed} are as for change topics. A deleted row
         * whose tombstone compaction already removed is simply absent: the handler sees no event for it.
         */
        public Builder fromState(String... names) {
            stateTopics.addAll(List.of(names));
            return this;
        }

        /** Handles events one at a time per partition. Exclusive with {@link #onBatch}. */
        public Builder onEach(ChangeHandler handler) {
            this.eventHandler = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /** Handles events in batches of up to {@link SubscriptionOptions#batchSize()}. Exclusive with {@link #onEach}. */
        public Builder onBatch(BatchHandler handler) {
            this.batchHandler = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /** Replaces the options (default: {@link SubscriptionOptions#defaults()}). */
        public Builder options(SubscriptionOptions value) {
            this.options = Objects.requireNonNull(value, "options");
            return this;
        }

        /**
         * Also treats failures matching {@code test} as outages, in addition to {@link Outages#isOutage}: for the
         * connection errors of a client library the runtime does not know (Redis, a search engine).
         */
        public Builder outageWhen(Predicate<Throwable> test) {
            this.outage = this.outage.or(Objects.requireNonNull(test, "test"));
            return this;
        }

        /**
         * The resource the handler writes to: it classifies the handler's errors ({@link FailureKind}) and reopens
         * the resource when it is broken for good. Without one, only {@link Outages outages} are recognised and
         * nothing is reopened.
         */
        public Builder dependency(Dependency value) {
            this.dependency = Objects.requireNonNull(value, "dependency");
            return this;
        }

        /** Where the meters go (default: a private registry). */
        public Builder meterRegistry(MeterRegistry registry) {
            this.meters = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * Extra Kafka client properties for the consumer, the dead-letter producer and the admin client, such as
         * {@code security.protocol} and SASL settings. Properties the runtime's guarantees depend on (commit mode,
         * isolation level, acks) cannot be overridden.
         */
        public Builder kafkaProperty(String name, Object value) {
            kafkaProperties.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /**
         * Checks Kafka and the topics, creates missing dead-letter topics, and starts consuming in the background.
         *
         * @throws IllegalStateException if no handler or no topic was given, both change topics and state topics
         *     were, Kafka does not answer, or a topic does not exist within
         *     {@link SubscriptionOptions#startupTimeout()}
         */
        public Subscription start() {
            if ((eventHandler == null) == (batchHandler == null)) {
                throw new IllegalStateException("Give exactly one handler: onEach(...) or onBatch(...)");
            }
            if (!topics.isEmpty() && !stateTopics.isEmpty()) {
                throw new IllegalStateException("Give change topics (topics(...)) or state topics (fromState(...)), "
                        + "not both: " + topics + ", " + stateTopics);
            }
            if (topics.isEmpty() && stateTopics.isEmpty()) {
                throw new IllegalStateException("Give at least one topic");
            }
            boolean fromState = !stateTopics.isEmpty();
            Predicate<Throwable> isOutage = ((Predicate<Throwable>) Outages::isOutage).or(outage);
            Dependency target = dependency != null ? dependency
                    : Dependency.none("the handler of " + group);
            return ReactorKafkaSubscription.start(new ReactorKafkaSubscription.Spec(bootstrapServers, group,
                    List.copyOf(fromState ? stateTopics : topics), fromState, eventHandler, batchHandler, options, isOutage, target, meters,
                    Map.copyOf(kafkaProperties)));
        }
    }
}
