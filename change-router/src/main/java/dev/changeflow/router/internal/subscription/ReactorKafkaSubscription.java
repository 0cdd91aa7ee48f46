package dev.changeflow.router.internal.subscription;

import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import dev.changeflow.router.MalformedEventException;
import dev.changeflow.router.Op;
import dev.changeflow.router.StateTopics;
import dev.changeflow.router.subscription.BatchHandler;
import dev.changeflow.router.subscription.BrokenResourceException;
import dev.changeflow.router.subscription.ChangeHandler;
import dev.changeflow.router.subscription.DeadLetterHeaders;
import dev.changeflow.router.subscription.Dependency;
import dev.changeflow.router.subscription.FailureKind;
import dev.changeflow.router.subscription.NonInterrupting;
import dev.changeflow.router.subscription.OutageException;
import dev.changeflow.router.subscription.Stall;
import dev.changeflow.router.subscription.Subscription;
import dev.changeflow.router.subscription.SubscriptionOptions;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.kafka.receiver.KafkaReceiver;
import reactor.kafka.receiver.ReceiverOffset;
import reactor.kafka.receiver.ReceiverOptions;
import reactor.kafka.receiver.ReceiverPartition;
import reactor.kafka.receiver.ReceiverRecord;
import reactor.util.retry.Retry;

/**
 * The subscription runtime on reactor-kafka.
 *
 * <p>Pipeline: the receiver's records are spread over {@code concurrency} lanes with {@code groupBy}; a partition is
 * pinned to one lane for the life of the subscription, so its records are handled in order, and there are exactly as
 * many groups as {@code flatMap} subscribes to (the groupBy trap cannot occur). Each lane handles one unit (a record,
 * or a batch) at a time with {@code concatMap} without prefetch. Demand flows back to the receiver, which pauses
 * fetching while keeping the poll loop alive, so a slow handler never overruns {@code max.poll.interval.ms}.
 *
 * <p>A unit's records are acknowledged only when its work is done, and acknowledged offsets are committed every
 * {@code commitInterval}, on revocation (after waiting up to {@code rebalanceDrainTimeout} for fetched records), and on
 * close. Records of a partition no longer held, or arriving while closing, are dropped unacknowledged: the partition's
 * next owner handles them.
 *
 * <p>Transactional producers end each transaction with a commit (or abort) marker in every partition it wrote: a
 * control record taking an offset that {@code read_committed} never returns, like the records of an aborted
 * transaction. Committing the last acknowledged offset + 1 would leave a caught-up group 1 behind the end of such a
 * partition forever. So every {@code lagInterval}, on the consumer's thread (where {@code poll} runs, so nothing is
 * being fetched meanwhile), a partition is committed at the consumer's position, past those offsets, as Kafka Streams
 * does, when all of this holds:
 * <ul>
 *   <li>the subscription is running and still holds the partition;
 *   <li>every record {@code poll} returned for it is finished or dropped (its in-flight count is 0), and the highest
 *       offset {@code poll} ever returned for it is below its acknowledged high-water mark {@code next};
 *   <li>the last commit Kafka confirmed for it is at least {@code next} (the runtime's own commit of its acknowledged
 *       records is done, so it cannot land after ours and move the offset back) and below the position.
 * </ul>
 * Why that skips no record: the position started at the partition's assignment, at or below {@code next}, and moved
 * up only by {@code poll} returning every record the group can read in between. None of those has an offset of
 * {@code next} or more, so the offsets from {@code next} to the position hold no record for this group: only markers
 * and aborted records. A record dropped unacknowledged was returned by {@code poll}, so it lies below {@code next},
 * which is already committed: the commit does not cover it anew. The commit is asynchronous; when it fails, the next
 * tick tries again. The lag gauge of such a partition is its records behind the position, without the gap.
 *
 * <p>Failures are sorted in one place, {@link #kindOf}: the {@link Dependency} first (a resource broken for good is
 * reopened through the {@link Healer}, then the call is retried), then {@link dev.changeflow.router.subscription.Outages
 * outages} (retried without limit), else a fault of the work (retried, then dead-lettered). A handler timeout is an
 * outage; it cancels the handler's {@code Mono} and interrupts nothing.
 *
 * <p>Stalls: every partition remembers when a record of it last finished, and the last failure of its handler calls.
 * A check every second (at most half the stall limit) reports the partition with records waiting (lag or in flight)
 * that has made no progress for longest, once that exceeds the stall limit; a partition with nothing waiting counts
 * as progressing.
 *
 * <p>State topics ({@link Spec#fromState()}): a group without committed offsets starts at the earliest offset whatever
 * the options say, and a tombstone is decoded from its {@link StateTopics#DELETE_EVENT_HEADER} header (it must hold a
 * delete event, else the record is undecodable). Before the consumer starts, each partition's end offset for a
 * {@code read_committed} reader is measured; a partition leaves that set once the group's committed offset reaches
 * its end, known from a commit of this member that Kafka confirmed or, every {@code lagInterval}, from the group's
 * committed offsets (which covers partitions held by other members, and a group that had caught up before it
 * started). The end of a transactional partition lies past its last commit marker; the idle-partition commit above is
 * what moves the group there. When the set is empty {@link #caughtUpWithState()} completes, off the consumer's
 * thread.
 */
public final class ReactorKafkaSubscription implements Subscription {
    private static final Logger LOG = LoggerFactory.getLogger(ReactorKafkaSubscription.class);
    private static final AtomicInteger INSTANCES = new AtomicInteger();
    private static final Duration STATE_CHECK_TIMEOUT = Duration.ofSeconds(2);

    /** What {@link Subscription.Builder} collected. */
    public record Spec(String bootstrapServers, String group, List<String> topics, boolean fromState,
            ChangeHandler eventHandler, BatchHandler batchHandler, SubscriptionOptions options,
            Predicate<Throwable> isOutage, Dependency dependency, MeterRegistry meters,
            Map<String, Object> kafkaProperties) {
    }

    private enum State { RUNNING, DRAINING, CLOSED }

    private final Spec spec;
    private final SubscriptionOptions options;
    private final AtomicReference<State> state = new AtomicReference<>(State.RUNNING);
    private final InFlightCounter inFlight = new InFlightCounter();
    private final SubscriptionMetrics metrics;
    private final DeadLetterPublisher deadLetters;
    private final Set<TopicPartition> assigned = ConcurrentHashMap.newKeySet();
    private final Map<TopicPartition, Integer> laneOf = new ConcurrentHashMap<>();
    private final AtomicInteger nextLane = new AtomicInteger();
    private final Map<TopicPartition, AtomicLong> nextOffset = new ConcurrentHashMap<>();
    /** Per partition held, the offset last committed, as Kafka confirmed it, or its position when assigned. */
    private final Map<TopicPartition, Long> committedOffset = new ConcurrentHashMap<>();
    /** The receiver's own consumer: the one {@code doOnConsumer} passes refuses to commit. */
    private final AtomicReference<Consumer<?, ?>> kafkaConsumer = new AtomicReference<>();
    private final AtomicInteger activeUnits = new AtomicInteger();
    private final AtomicReference<ReceiverOffset> lastAcknowledged = new AtomicReference<>();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private final KafkaReceiver<String, byte[]> receiver;
    private final PartitionPauser pauser;
    private final Healer healer;
    /** Per partition held: when a record of it last finished, or when it last had nothing waiting (nanoTime). */
    private final Map<TopicPartition, Long> lastProgress = new ConcurrentHashMap<>();
    /** Per partition: the last failure of a handler call on its records since its last progress. */
    private final Map<TopicPartition, String> lastFailure = new ConcurrentHashMap<>();
    private volatile Optional<Stall> stall = Optional.empty();
    private volatile Disposable stallCheck;
    private volatile Disposable pipeline;
    private volatile Disposable lagRefresh;
    private volatile Disposable pauseCheck;
    /** State topics only: per partition not yet caught up, the end offset it had at start. */
    private final Map<TopicPartition, Long> stateEnds;
    private final CompletableFuture<Void> caughtUp = new CompletableFuture<>();
    private final long startedAt = System.nanoTime();

    private ReactorKafkaSubscription(Spec spec, Map<String, Object> clientProperties,
            Map<TopicPartition, Long> stateEnds) {
        this.spec = spec;
        this.stateEnds = new ConcurrentHashMap<>(stateEnds);
        if (spec.fromState() && stateEnds.isEmpty()) {
            caughtUp.complete(null);
        }
        this.options = spec.options();
        this.metrics = new SubscriptionMetrics(spec.meters(), spec.group(), inFlight::current);
        this.deadLetters = new DeadLetterPublisher(clientProperties, spec.group());
        this.receiver = KafkaReceiver.create(receiverOptions(clientProperties));
        this.pauser = new PartitionPauser(receiver, inFlight, this::partitionLimit);
        this.healer = new Healer(spec.dependency(), spec.group(), metrics);
        inFlight.onFetched(pauser::check);
        inFlight.onCommitted(this::onCommitted);
    }

    /** Records one partition may have in flight before it is paused: its share of the queue, at least one poll. */
    private int partitionLimit() {
        return Math.max(options.pollRecords(), options.queueCapacity() / Math.max(1, assigned.size()));
    }

    /** Prepares the topics and starts consuming; see {@link Subscription.Builder#start()}. */
    public static Subscription start(Spec spec) {
        Map<String, Object> clientProperties = new HashMap<>(spec.kafkaProperties());
        clientProperties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, spec.bootstrapServers());
        Map<TopicPartition, Long> stateEnds = TopicPreparation.prepare(clientProperties, spec.topics(),
                spec.options().startupTimeout(), spec.options().deadLetterRetention(), spec.fromState());
        ReactorKafkaSubscription subscription = new ReactorKafkaSubscription(spec, clientProperties, stateEnds);
        subscription.run();
        LOG.info("Subscription {} started on {}{} (max {} in flight, {} lanes, {})", spec.group(),
                spec.fromState() ? "state topics " : "", spec.topics(),
                spec.options().maxInFlight(), spec.options().concurrency(),
                spec.batchHandler() != null ? "batches of " + spec.options().batchSize() : "one event at a time");
        return subscription;
    }

    private ReceiverOptions<String, byte[]> receiverOptions(Map<String, Object> clientProperties) {
        Map<String, Object> config = new HashMap<>();
        // Records the consumer has fetched but poll has not yet returned are outside the in-flight count; keep that
        // read-ahead small (Kafka's defaults allow 50 MB, and 1 MB per partition) unless the operator says otherwise.
        config.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 8 * 1024 * 1024);
        config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 256 * 1024);
        config.putAll(clientProperties);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, spec.group());
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, spec.group() + "-" + INSTANCES.incrementAndGet());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // A state topic is read from its beginning: it is the whole state, not a stream to join.
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, spec.fromState() ? "earliest"
                : options.autoOffsetReset().name().toLowerCase());
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, options.pollRecords());
        // Cooperative: a member joining or leaving moves only the partitions that change hands.
        config.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        config.put(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, InFlightCounter.Interceptor.class.getName());
        config.put(InFlightCounter.ID_CONFIG, inFlight.id());
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        return ReceiverOptions.<String, byte[]>create(config)
                .subscription(spec.topics())
                .commitInterval(options.commitInterval())
                .commitBatchSize(0)
                // A commit failing because Kafka is away is retried for as long as it is away.
                .maxCommitAttempts(Integer.MAX_VALUE)
                .maxDelayRebalance(options.rebalanceDrainTimeout())
                .commitIntervalDuringDelay(100)
                .closeTimeout(options.shutdownTimeout())
                .addAssignListener(this::onAssigned)
                .addRevokeListener(this::onRevoked)
                .consumerListener(new ReceiverOptions.ConsumerListener() {
                    @Override
                    public void consumerAdded(String id, Consumer<?, ?> consumer) {
                        kafkaConsumer.set(consumer);
                    }

                    @Override
                    public void consumerRemoved(String id, Consumer<?, ?> consumer) {
                        kafkaConsumer.compareAndSet(consumer, null);
                    }
                });
    }

    private void run() {
        int lanes = options.concurrency();
        boolean batches = spec.batchHandler() != null;
        pipeline = receiver.receive(1)
                .groupBy(record -> laneOf(record.receiverOffset().topicPartition()), options.queueCapacity())
                .flatMap(lane -> batches
                        ? lane.bufferTimeout(options.batchSize(), options.batchWait(), true)
                                .concatMap(this::processUnit, 0)
                        : lane.concatMap(record -> processUnit(List.of(record)), 0), lanes, 1)
                .subscribe(ignored -> { }, this::onFatal, () -> LOG.debug("Subscription {} pipeline completed",
                        spec.group()));
        lagRefresh = Flux.interval(options.lagInterval(), options.lagInterval())
                .onBackpressureDrop()
                .concatMap(tick -> receiver.doOnConsumer(this::refreshLag).onErrorResume(e -> Mono.empty()))
                .subscribe();
        Duration stallTick = Duration.ofMillis(Math.max(10, Math.min(1000, options.stallLimit().toMillis() / 2)));
        stallCheck = Flux.interval(stallTick, stallTick).onBackpressureDrop().subscribe(tick -> checkStalls());
        // A safety net for resuming paused partitions when nothing else triggers a check.
        pauseCheck = Flux.interval(Duration.ofMillis(100)).onBackpressureDrop()
                .subscribe(tick -> {
                    if (pauser.anyPaused()) {
                        pauser.check();
                    }
                });
    }

    /**
     * On the consumer's thread: sets each partition's lag gauge and commits the idle ones past their transaction
     * markers (see the class comment).
     */
    private boolean refreshLag(Consumer<String, byte[]> consumer) {
        Map<TopicPartition, OffsetAndMetadata> pastMarkers = new HashMap<>();
        for (TopicPartition tp : consumer.assignment()) {
            var behind = consumer.currentLag(tp);
            AtomicLong nextHolder = nextOffset.get(tp);
            if (behind.isEmpty() || nextHolder == null) {
                continue;
            }
            long position = consumer.position(tp);
            // In this order: a record dropped while closing is finished only after the state left RUNNING.
            boolean idle = inFlight.current(tp) == 0;
            long next = nextHolder.get();
            idle = idle && inFlight.highestPolled(tp) < next && state.get() == State.RUNNING;
            metrics.lag(tp, behind.getAsLong() + (idle ? 0 : Math.max(0, position - next)));
            Long committed = committedOffset.get(tp);
            if (idle && position > next && committed != null && committed >= next && committed < position
                    && assigned.contains(tp)) {
                pastMarkers.put(tp, new OffsetAndMetadata(position));
            }
        }
        Consumer<?, ?> committer = kafkaConsumer.get();
        if (!pastMarkers.isEmpty() && committer != null) {
            committer.commitAsync(pastMarkers, (offsets, error) -> {
                if (error != null) {
                    LOG.debug("Subscription {}: committing {} past transaction markers failed ({}); retried later",
                            spec.group(), offsets, error.toString());
                }
            });
        }
        if (!stateEnds.isEmpty()) {
            checkStateCommitted(consumer);
        }
        return true;
    }

    /**
     * On the consumer's thread: the group's committed offsets of the state partitions not yet caught up, whoever
     * holds them. Bounded, so a coordinator that does not answer delays the poll loop by little; the next tick asks
     * again.
     */
    private void checkStateCommitted(Consumer<String, byte[]> consumer) {
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(Set.copyOf(stateEnds.keySet()),
                    STATE_CHECK_TIMEOUT);
            committed.forEach((tp, offset) -> {
                if (offset != null) {
                    stateCommitted(tp, offset.offset());
                }
            });
        } catch (RuntimeException e) {
            LOG.debug("Subscription {}: reading the committed offsets of its state topics failed ({}); retried later",
                    spec.group(), e.toString());
        }
    }

    /** Notes that the group committed {@code offset} on {@code tp}; completes {@link #caughtUp} with the last one. */
    private void stateCommitted(TopicPartition tp, long offset) {
        if (stateEnds.isEmpty()) {
            return;
        }
        stateEnds.computeIfPresent(tp, (k, end) -> offset >= end ? null : end);
        if (stateEnds.isEmpty() && !caughtUp.isDone()) {
            // Off the consumer's thread: what the application chains to the future must not hold up the poll loop.
            NonInterrupting.SCHEDULER.schedule(() -> {
                if (caughtUp.complete(null)) {
                    LOG.info("Subscription {} caught up with state topics {} in {} ms", spec.group(), spec.topics(),
                            Duration.ofNanos(System.nanoTime() - startedAt).toMillis());
                }
            });
        }
    }

    /**
     * Finds the partition stalled longest (see the class comment), publishes it to {@link #stall()} and the meters,
     * and logs when a stall starts and ends.
     */
    private void checkStalls() {
        long now = System.nanoTime();
        Stall worst = null;
        if (state.get() == State.RUNNING) {
            for (TopicPartition tp : assigned) {
                boolean waiting = inFlight.current(tp) > 0 || metrics.lagOf(tp) > 0;
                if (!waiting) {
                    lastProgress.put(tp, now);
                    continue;
                }
                Duration since = Duration.ofNanos(now - lastProgress.computeIfAbsent(tp, k -> now));
                if (since.compareTo(options.stallLimit()) > 0 && (worst == null || since.compareTo(worst.since()) > 0)) {
                    worst = new Stall(spec.group(), tp, since, lastFailure.getOrDefault(tp, inFlight.current(tp) > 0
                            ? "its records wait for a handler call that has not finished"
                            : "no record handled although the partition has lag"));
                }
            }
        }
        Optional<Stall> previous = stall;
        stall = Optional.ofNullable(worst);
        metrics.stall(worst == null ? Duration.ZERO : worst.since());
        if (worst != null && previous.isEmpty()) {
            LOG.error("Subscription {}", worst.describe());
        } else if (worst == null && previous.isPresent()) {
            LOG.info("Subscription {} moves again ({} was stalled)", spec.group(), previous.get().partition());
        }
    }

    @Override
    public Optional<Stall> stall() {
        return terminated.isDone() ? Optional.empty() : stall;
    }

    /** On the consumer's thread: notes the offsets of a commit Kafka confirmed, ours or the receiver's. */
    private void onCommitted(Map<TopicPartition, OffsetAndMetadata> offsets) {
        offsets.forEach((tp, offset) -> {
            if (offset != null && assigned.contains(tp)) {
                committedOffset.put(tp, offset.offset());
            }
            if (offset != null) {
                stateCommitted(tp, offset.offset());
            }
        });
    }

    private int laneOf(TopicPartition partition) {
        // Pinned for life: were it moved, a stale record of the old lane could race the partition's new records.
        return laneOf.computeIfAbsent(partition, tp -> nextLane.getAndIncrement() % options.concurrency());
    }

    private void onAssigned(Collection<ReceiverPartition> partitions) {
        for (ReceiverPartition p : partitions) {
            TopicPartition tp = p.topicPartition();
            assigned.add(tp);
            lastProgress.put(tp, System.nanoTime());
            AtomicLong next = nextOffset.computeIfAbsent(tp, k -> new AtomicLong());
            try {
                long position = p.position();
                next.set(position);
                committedOffset.put(tp, position);
            } catch (RuntimeException e) {
                LOG.debug("No position yet for {}: {}", tp, e.toString());
            }
        }
        LOG.info("Subscription {} assigned {}", spec.group(), partitions.stream().map(ReceiverPartition::topicPartition)
                .toList());
    }

    private void onRevoked(Collection<ReceiverPartition> partitions) {
        for (ReceiverPartition p : partitions) {
            assigned.remove(p.topicPartition());
            nextOffset.remove(p.topicPartition());
            committedOffset.remove(p.topicPartition());
            lastProgress.remove(p.topicPartition());
            lastFailure.remove(p.topicPartition());
            metrics.dropLag(p.topicPartition());
        }
        LOG.info("Subscription {} gave up {}", spec.group(), partitions.stream().map(ReceiverPartition::topicPartition)
                .toList());
    }

    /** Handles one unit (one record, or one lane's batch) and acknowledges its records when all of it is done. */
    private Mono<Void> processUnit(List<ReceiverRecord<String, byte[]>> records) {
        return Mono.<Void>defer(() -> {
            List<ReceiverRecord<String, byte[]>> live = new ArrayList<>(records.size());
            for (ReceiverRecord<String, byte[]> record : records) {
                if (state.get() == State.RUNNING && assigned.contains(record.receiverOffset().topicPartition())) {
                    live.add(record);
                } else {
                    inFlight.finished(record.receiverOffset().topicPartition(), 1);
                    metrics.skipped(record.topic(), 1);
                }
            }
            if (live.isEmpty()) {
                return Mono.empty();
            }
            activeUnits.incrementAndGet();
            Set<ReceiverRecord<String, byte[]>> deadLettered = ConcurrentHashMap.newKeySet();
            List<Decoded> decoded = new ArrayList<>(live.size());
            List<Mono<Void>> undecodable = new ArrayList<>();
            for (ReceiverRecord<String, byte[]> record : live) {
                try {
                    decoded.add(new Decoded(record, decode(record)));
                } catch (MalformedEventException e) {
                    undecodable.add(Mono.defer(() -> deadLetter(record, DeadLetterHeaders.REASON_UNDECODABLE, e, 0,
                            deadLettered)));
                }
            }
            Mono<Void> handled = decoded.isEmpty() ? Mono.empty()
                    : decoded.size() == 1 ? handleAlone(decoded.get(0), deadLettered)
                    : handleBatch(decoded, deadLettered);
            return Flux.concat(undecodable).then(handled)
                    .then(Mono.<Void>fromRunnable(() -> finished(live, deadLettered)))
                    .doFinally(signal -> activeUnits.decrementAndGet());
        }).subscribeOn(NonInterrupting.SCHEDULER);
    }

    /**
     * The event of a record: its value; on a state topic, a tombstone's delete event from its header.
     *
     * @throws MalformedEventException if there is none, or a tombstone's header holds an event that is no delete
     */
    private ChangeEvent decode(ReceiverRecord<String, byte[]> record) {
        byte[] json = record.value();
        boolean tombstone = spec.fromState() && json == null;
        if (tombstone) {
            Header header = record.headers().lastHeader(StateTopics.DELETE_EVENT_HEADER);
            if (header == null) {
                throw new MalformedEventException("a state-topic tombstone without its "
                        + StateTopics.DELETE_EVENT_HEADER + " header", null);
            }
            json = header.value();
        }
        ChangeEvent event = options.validateSchema() ? ChangeEventCodec.decodeChecked(json)
                : ChangeEventCodec.decode(json);
        if (tombstone && event.op() != Op.DELETE) {
            throw new MalformedEventException("a state-topic tombstone whose " + StateTopics.DELETE_EVENT_HEADER
                    + " header holds a " + event.op() + " event, not a delete", null);
        }
        return event;
    }

    /** Calls the handler for one event: retries failures, then dead-letters; retries outages without limit. */
    private Mono<Void> handleAlone(Decoded item, Set<ReceiverRecord<String, byte[]>> deadLettered) {
        AtomicInteger attempts = new AtomicInteger();
        String topic = item.record().topic();
        return call(List.of(item.event()), attempts, Set.of(item.record().receiverOffset().topicPartition()))
                .retryWhen(Retry.backoff(options.retries(), options.retryBackoff())
                        .maxBackoff(options.retryMaxBackoff())
                        .filter(e -> kindOf(e) == FailureKind.FAULT)
                        .doBeforeRetry(signal -> {
                            metrics.retried(topic, false);
                            LOG.debug("Retrying {} after {}", item.event().eventId(), signal.failure().toString());
                        }))
                .retryWhen(outageRetry(topic, item.record().key()))
                .onErrorResume(Exceptions::isRetryExhausted, exhausted -> deadLetter(item.record(),
                        DeadLetterHeaders.REASON_HANDLER_FAILED, exhausted.getCause(), attempts.get(), deadLettered));
    }

    /** Calls the batch handler; on a failure that is not an outage, falls back to each event alone. */
    private Mono<Void> handleBatch(List<Decoded> items, Set<ReceiverRecord<String, byte[]>> deadLettered) {
        List<ChangeEvent> events = items.stream().map(Decoded::event).toList();
        String topic = items.get(0).record().topic();
        Set<TopicPartition> partitions = new java.util.HashSet<>();
        items.forEach(item -> partitions.add(item.record().receiverOffset().topicPartition()));
        return call(events, new AtomicInteger(), partitions)
                .retryWhen(outageRetry(topic, "batch of " + events.size()))
                .onErrorResume(e -> kindOf(e) == FailureKind.FAULT, e -> {
                    LOG.warn("A batch of {} failed ({}); handling its events one by one", events.size(), e.toString());
                    return Flux.fromIterable(items).concatMap(item -> handleAlone(item, deadLettered), 0).then();
                });
    }

    /**
     * One handler call on the records of {@code partitions}. A call that finds the dependency broken reopens it (see
     * {@link Healer}) and then fails as an outage, so that it is retried.
     */
    private Mono<Void> call(List<ChangeEvent> events, AtomicInteger attempts, Set<TopicPartition> partitions) {
        return Mono.defer(() -> {
            attempts.incrementAndGet();
            long start = System.nanoTime();
            long generation = healer.generation();
            Mono<Void> result = spec.eventHandler() != null ? spec.eventHandler().handle(events.get(0))
                    : spec.batchHandler().handle(events);
            return result.timeout(options.handlerTimeout())
                    .doOnSuccess(ignored -> healer.progress())
                    .doOnError(e -> {
                        String reason = reasonOf(e);
                        partitions.forEach(tp -> lastFailure.put(tp, reason));
                    })
                    .onErrorResume(e -> kindOf(e) == FailureKind.BROKEN, e -> healer.heal(generation, e)
                            .then(Mono.error(new Reopened(spec.dependency().describe(), e))))
                    .doFinally(signal -> metrics.handlerCall(Duration.ofNanos(System.nanoTime() - start)));
        });
    }

    /**
     * The one place that sorts a failure: a resource that could not be made to work stops the subscription (null);
     * a call retried after a reopen is an outage; then the dependency's verdict; then the outages every consumer
     * shares; anything else is the work's fault.
     */
    private FailureKind kindOf(Throwable error) {
        if (error instanceof BrokenResourceException) {
            return null;
        }
        if (error instanceof Reopened) {
            return FailureKind.OUTAGE;
        }
        FailureKind kind = spec.dependency().classify(error);
        if (kind != null && kind != FailureKind.FAULT) {
            return kind;
        }
        return spec.isOutage().test(error) ? FailureKind.OUTAGE : FailureKind.FAULT;
    }

    /** The failure as a stall's reason: the innermost message that says something. */
    private static String reasonOf(Throwable error) {
        if (error instanceof java.util.concurrent.TimeoutException) {
            return "a handler call ran longer than the handler timeout";
        }
        Throwable t = error;
        while (t.getCause() != null && t.getCause() != t && !(t instanceof Reopened)) {
            t = t.getCause();
        }
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return message.length() > 300 ? message.substring(0, 300) + "..." : message;
    }

    /** A call that failed because the dependency was broken, after the dependency was reopened: retry it. */
    private static final class Reopened extends OutageException {
        private static final long serialVersionUID = 1L;

        Reopened(String dependency, Throwable cause) {
            super("reopened " + dependency + " after: " + cause, cause);
        }
    }

    private Retry outageRetry(String topic, String what) {
        return Retry.backoff(Long.MAX_VALUE, options.outageBackoff())
                .maxBackoff(options.outageMaxBackoff())
                .filter(e -> kindOf(e) == FailureKind.OUTAGE)
                .doBeforeRetry(signal -> {
                    metrics.retried(topic, true);
                    if (signal.totalRetriesInARow() % 10 == 0) {
                        LOG.warn("Subscription {}: dependency unavailable for {} ({}); retry {} with backoff",
                                spec.group(), what, signal.failure().toString(), signal.totalRetriesInARow() + 1);
                    }
                });
    }

    private Mono<Void> deadLetter(ReceiverRecord<String, byte[]> record, String reason, Throwable error,
            int attempts, Set<ReceiverRecord<String, byte[]>> deadLettered) {
        return deadLetters.publish(record, reason, error, attempts)
                .retryWhen(outageRetry(record.topic(), "dead letter of " + record.key()))
                .doOnSuccess(ignored -> {
                    deadLettered.add(record);
                    metrics.deadLettered(record.topic());
                });
    }

    /** Acknowledges a unit's records and counts those handled (not {@code deadLettered}) by topic. */
    private void finished(List<ReceiverRecord<String, byte[]>> records,
            Set<ReceiverRecord<String, byte[]>> deadLettered) {
        Map<String, Integer> handled = new HashMap<>();
        for (ReceiverRecord<String, byte[]> record : records) {
            ReceiverOffset offset = record.receiverOffset();
            offset.acknowledge();
            lastAcknowledged.set(offset);
            AtomicLong next = nextOffset.get(offset.topicPartition());
            if (next != null) {
                next.accumulateAndGet(offset.offset() + 1, Math::max);
            }
            inFlight.finished(offset.topicPartition(), 1);
            lastProgress.put(offset.topicPartition(), System.nanoTime());
            lastFailure.remove(offset.topicPartition());
            if (!deadLettered.contains(record)) {
                handled.merge(record.topic(), 1, Integer::sum);
            }
        }
        handled.forEach(metrics::processed);
        if (pauser.anyPaused()) {
            pauser.check();
        }
    }

    private void onFatal(Throwable failure) {
        // Lanes failing at the same moment arrive combined ("Multiple exceptions"): report the one that says most.
        List<Throwable> all = Exceptions.unwrapMultiple(failure);
        Throwable error = all.stream().filter(BrokenResourceException.class::isInstance).findFirst()
                .orElse(all.isEmpty() ? failure : all.get(0));
        LOG.error("Subscription {} stopped: {}", spec.group(), error.toString(), error);
        if (state.getAndSet(State.CLOSED) != State.CLOSED) {
            release();
            caughtUp.completeExceptionally(error);
            terminated.completeExceptionally(error);
        }
    }

    @Override
    public String group() {
        return spec.group();
    }

    @Override
    public CompletableFuture<Void> requestRebalance() {
        LOG.info("Subscription {}: rebalance requested", spec.group());
        // On the consumer's thread, but on the consumer itself: reactor-kafka's proxy refuses enforceRebalance.
        return receiver.doOnConsumer(proxy -> {
            Consumer<?, ?> consumer = kafkaConsumer.get();
            if (consumer == null) {
                throw new IllegalStateException("the consumer of " + spec.group() + " is not running");
            }
            consumer.enforceRebalance("requested by an operator");
            return true;
        }).doOnError(error -> LOG.warn("Subscription {}: rebalance request failed: {}", spec.group(),
                error.toString())).then().toFuture();
    }

    @Override
    public CompletableFuture<Void> caughtUpWithState() {
        if (!spec.fromState()) {
            throw new IllegalStateException("Subscription " + spec.group() + " reads " + spec.topics()
                    + " as change topics; only one built with fromState(...) catches up with state topics");
        }
        return caughtUp;
    }

    @Override
    public Set<TopicPartition> assignment() {
        return Set.copyOf(assigned);
    }

    @Override
    public int inFlight() {
        return inFlight.current();
    }

    @Override
    public int peakInFlight() {
        return inFlight.peak();
    }

    @Override
    public CompletableFuture<Void> whenTerminated() {
        return terminated;
    }

    @Override
    public void close() {
        if (!state.compareAndSet(State.RUNNING, State.DRAINING)) {
            terminated.exceptionally(e -> null).join();
            return;
        }
        long deadline = System.nanoTime() + options.shutdownTimeout().toNanos();
        while (activeUnits.get() > 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        if (activeUnits.get() > 0) {
            LOG.warn("Subscription {}: {} unit(s) still running after {}; their records are left to the next owner",
                    spec.group(), activeUnits.get(), options.shutdownTimeout());
        }
        ReceiverOffset last = lastAcknowledged.get();
        if (last != null) {
            try {
                // Commits every acknowledged offset, not only this one.
                last.commit().block(options.shutdownTimeout());
            } catch (RuntimeException e) {
                LOG.warn("Subscription {}: final commit failed ({}); the next owner repeats up to {} of work",
                        spec.group(), e.toString(), options.commitInterval());
            }
        }
        state.set(State.CLOSED);
        release();
        caughtUp.completeExceptionally(new IllegalStateException("Subscription " + spec.group()
                + " closed before it caught up with its state topics"));
        terminated.complete(null);
        LOG.info("Subscription {} closed", spec.group());
    }

    private void release() {
        Disposable p = pipeline;
        if (p != null) {
            p.dispose();
        }
        for (Disposable d : new Disposable[] {lagRefresh, pauseCheck, stallCheck}) {
            if (d != null) {
                d.dispose();
            }
        }
        deadLetters.close();
        healer.close();
        metrics.close();
        inFlight.close();
    }

    private record Decoded(ReceiverRecord<String, byte[]> record, ChangeEvent event) {
    }
}
