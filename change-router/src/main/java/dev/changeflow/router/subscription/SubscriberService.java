package dev.changeflow.router.subscription;

import dev.changeflow.router.service.ChangeflowService;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consumer service built on one {@link Subscription} (the cache invalidator, the search indexer): what such a
 * service does for {@link ChangeflowService} besides its own work, written once. Its {@link ServiceLifecycle} makes it
 * start once, run until closed or until its subscription fails, and release its resources once: the subscription
 * first (it finishes the batches in hand and commits them), then whatever {@link #releaseClients} closes.
 *
 * <p>A subclass validates its settings in its constructor, starts with {@link #start(Supplier)} and says what it
 * closes in {@link #releaseClients}. Thread-safe.
 */
public abstract class SubscriberService implements ChangeflowService {
    private static final Logger LOG = LoggerFactory.getLogger(SubscriberService.class);

    private final String title;
    private final ServiceLifecycle lifecycle;
    private volatile Subscription subscription;

    /**
     * @param description the service as messages name it within a sentence, such as {@code the cache invalidator}
     * @param title the service at the start of a log line, such as {@code Cache invalidator}
     */
    protected SubscriberService(String description, String title) {
        this.title = title;
        this.lifecycle = new ServiceLifecycle(description, this::release);
    }

    /**
     * Runs {@code startup} as the service's one start; it opens the service's clients and returns, as its last step,
     * the subscription it started, which then fails the service if it stops on an error. Nothing is left running if
     * it throws.
     *
     * @throws IllegalStateException if the service was already started or closed
     */
    protected final void start(Supplier<Subscription> startup) {
        lifecycle.start(() -> {
            Subscription started = startup.get();
            subscription = started;
            lifecycle.watch(started);
        });
    }

    /** Closes what the service opened besides the subscription; must cope with start-up having stopped half-way. */
    protected abstract void releaseClients();

    /** The consumer group. */
    public abstract String group();

    public ServiceLifecycle.State state() {
        return lifecycle.state();
    }

    /** Whether it has started, has neither been closed nor failed, and its subscription is not stalled. */
    @Override
    public final boolean isReady() {
        return lifecycle.isRunning() && problem().isEmpty();
    }

    /** The subscription's {@link Subscription#stall() stall}, described; empty while it moves. */
    @Override
    public final java.util.Optional<String> problem() {
        Subscription s = subscription;
        return s == null || !lifecycle.isRunning() ? java.util.Optional.empty() : s.stall().map(Stall::describe);
    }

    /** Asks the running subscription to rebalance; empty if it is not running. */
    @Override
    public final List<String> requestRebalance() {
        return lifecycle.requestRebalance();
    }

    /**
     * The running subscription, to see its assignment, in-flight count and lag.
     *
     * @throws IllegalStateException before {@link #start} succeeded
     */
    public final Subscription subscription() {
        Subscription s = subscription;
        if (s == null) {
            throw new IllegalStateException("The " + title.toLowerCase(java.util.Locale.ROOT) + " has not started");
        }
        return s;
    }

    /**
     * Completes normally after {@link #close()}, exceptionally if the subscription stopped on an error it cannot
     * retry or {@link #start} failed. Never null.
     */
    @Override
    public final CompletableFuture<Void> whenTerminated() {
        return lifecycle.whenTerminated();
    }

    /**
     * Stops gracefully: the subscription finishes the batches in hand and commits them, leaves the group, then the
     * clients close. Idempotent: only the first call does this, later calls return at once.
     */
    @Override
    public final void close() {
        if (lifecycle.close()) {
            LOG.info("{} {} closed", title, group());
        }
    }

    private void release() {
        Subscription s = subscription;
        if (s != null) {
            s.close();
        }
        releaseClients();
    }
}
