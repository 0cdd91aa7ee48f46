package dev.changeflow.router.internal.subscription;

import dev.changeflow.router.subscription.BlockingWork;
import dev.changeflow.router.subscription.BrokenResourceException;
import dev.changeflow.router.subscription.Dependency;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Reopens a subscription's {@link Dependency} when its handler calls find it broken, once per breakage however many
 * lanes saw it: a call remembers the {@link #generation()} it started in, and a call that failed on an older
 * generation than the current one was broken by the resource already replaced, so it is just retried.
 *
 * <p>Gives up, failing every later {@link #heal} with the same {@link BrokenResourceException}, when the resource
 * cannot be reopened or breaks again {@link Dependency#MAX_REOPENS_WITHOUT_PROGRESS} times in a row without a call
 * succeeding in between. Reopening runs on a thread of its own ({@link BlockingWork}): never interrupted, never
 * concurrent with itself. Thread-safe.
 */
final class Healer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Healer.class);

    private final Dependency dependency;
    private final String group;
    private final SubscriptionMetrics metrics;
    private final BlockingWork reopener;
    private final AtomicLong generation = new AtomicLong();
    private final AtomicInteger reopensWithoutProgress = new AtomicInteger();
    private volatile BrokenResourceException gaveUp;

    Healer(Dependency dependency, String group, SubscriptionMetrics metrics) {
        this.dependency = dependency;
        this.group = group;
        this.metrics = metrics;
        this.reopener = BlockingWork.create("reopen-" + group, 1);
    }

    /** The number of reopens so far: a handler call notes it when it starts. */
    long generation() {
        return generation.get();
    }

    /** A handler call succeeded: the resource works. */
    void progress() {
        if (reopensWithoutProgress.get() != 0) {
            reopensWithoutProgress.set(0);
        }
    }

    /**
     * Reopens the resource that a call started in {@code seenGeneration} found broken with {@code error}, unless it was
     * reopened since. Completes when the resource may be used again.
     *
     * @return errors with a {@link BrokenResourceException} if the resource cannot be made to work
     */
    Mono<Void> heal(long seenGeneration, Throwable error) {
        return reopener.run(() -> {
            if (gaveUp != null) {
                throw gaveUp;
            }
            if (generation.get() != seenGeneration) {
                return;
            }
            if (reopensWithoutProgress.incrementAndGet() > Dependency.MAX_REOPENS_WITHOUT_PROGRESS) {
                throw giveUp(new BrokenResourceException(group + ": " + dependency.describe() + " broke again after "
                        + Dependency.MAX_REOPENS_WITHOUT_PROGRESS + " reopens without any handler call succeeding: "
                        + error, error));
            }
            LOG.warn("Subscription {}: {} is broken ({}); reopening it", group, dependency.describe(), error.toString());
            try {
                dependency.reopen();
            } catch (Exception | LinkageError e) {
                metrics.reopened(false);
                BrokenResourceException broken = new BrokenResourceException(group + ": cannot reopen "
                        + dependency.describe() + " after it broke (" + error + "): " + e, e);
                broken.addSuppressed(error);
                throw giveUp(broken);
            }
            generation.incrementAndGet();
            metrics.reopened(true);
            LOG.info("Subscription {}: reopened {}; retrying", group, dependency.describe());
        });
    }

    private BrokenResourceException giveUp(BrokenResourceException e) {
        gaveUp = e;
        LOG.error("Subscription {}: {}", group, e.getMessage());
        return e;
    }

    @Override
    public void close() {
        reopener.close(Duration.ofSeconds(30));
    }
}
