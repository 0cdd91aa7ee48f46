package dev.changeflow.router.subscription;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lifecycle every consumer service built on a {@link Subscription} shares (the cache invalidator, the search
 * indexer): created, started once, running until closed or until its subscription fails, never restarted. Holds the
 * state, the termination future and the single release of the service's resources.
 *
 * <ul>
 *   <li>{@link #start} runs the service's start-up; if it throws, the service is {@link State#FAILED}, its resources
 *       are released and {@link #whenTerminated()} completes exceptionally;</li>
 *   <li>{@link #watch} makes a subscription that stops on an error it cannot retry fail the service;</li>
 *   <li>{@link #close} releases the resources once and completes {@link #whenTerminated()} normally.</li>
 * </ul>
 * A transition out of order throws {@link IllegalStateException} naming the service. Thread-safe.
 */
public final class ServiceLifecycle {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceLifecycle.class);

    /** Lifecycle states; transitions only move forward. */
    public enum State { CREATED, STARTING, RUNNING, CLOSED, FAILED }

    private final java.util.List<Subscription> watched = new java.util.concurrent.CopyOnWriteArrayList<>();

    private final String name;
    private final Runnable release;
    private final AtomicReference<State> state = new AtomicReference<>(State.CREATED);
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private final AtomicBoolean released = new AtomicBoolean();

    /**
     * @param name the service as messages name it, such as {@code the cache invalidator}
     * @param release closes what the service opened (subscription first, then its clients); run at most once, and
     *     must cope with start-up having stopped half-way
     */
    public ServiceLifecycle(String name, Runnable release) {
        this.name = Objects.requireNonNull(name, "name");
        this.release = Objects.requireNonNull(release, "release");
    }

    /**
     * Runs {@code startup} as the service's one start.
     *
     * @throws IllegalStateException if the service was already started or closed
     * @throws RuntimeException whatever {@code startup} threw, after releasing what it opened
     */
    public void start(Runnable startup) {
        transition(State.CREATED, State.STARTING);
        try {
            startup.run();
            transition(State.STARTING, State.RUNNING);
        } catch (RuntimeException e) {
            state.set(State.FAILED);
            releaseOnce();
            terminated.completeExceptionally(e);
            throw e;
        }
    }

    /** Whether the service has started and has been neither closed nor failed: a hosted service's readiness. */
    public boolean isRunning() {
        return state.get() == State.RUNNING;
    }

    /**
     * Asks every watched subscription that still runs to rebalance ({@code POST /consumer/rebalance}).
     *
     * @return their consumer groups; empty if none runs
     * @throws IllegalStateException naming the group whose consumer did not accept the request within 10 s
     */
    public java.util.List<String> requestRebalance() {
        java.util.List<String> groups = new java.util.ArrayList<>();
        for (Subscription subscription : watched) {
            if (!subscription.whenTerminated().isDone()) {
                try {
                    subscription.requestRebalance().get(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while requesting a rebalance", e);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    throw new IllegalStateException("the consumer of group " + subscription.group()
                            + " did not accept the rebalance request: " + e, e);
                }
                groups.add(subscription.group());
            }
        }
        return groups;
    }

    /** Fails the service if {@code subscription} stops on an error; {@link #requestRebalance} reaches it. */
    public void watch(Subscription subscription) {
        watched.add(subscription);
        subscription.whenTerminated().whenComplete((ignored, error) -> {
            if (error != null) {
                LOG.error("{} stopped: {}", capitalized(), error.toString());
                state.set(State.FAILED);
                terminated.completeExceptionally(error);
            }
        });
    }

    /**
     * Releases the service's resources and completes {@link #whenTerminated()}; only the first call does anything.
     *
     * @return whether this call did
     */
    public boolean close() {
        state.getAndUpdate(s -> s == State.FAILED ? s : State.CLOSED);
        if (releaseOnce()) {
            terminated.complete(null);
            return true;
        }
        return false;
    }

    public State state() {
        return state.get();
    }

    /**
     * Completes normally after {@link #close()}, exceptionally if the subscription stopped on an error it cannot
     * retry or {@link #start} failed. Never null.
     */
    public CompletableFuture<Void> whenTerminated() {
        return terminated;
    }

    /** The message of {@code error}, followed by its root cause's when it has one: one line for an operator. */
    public static String rootMessage(Throwable error) {
        Throwable t = error;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == error ? String.valueOf(error.getMessage()) : error.getMessage() + ": " + t.getMessage();
    }

    private boolean releaseOnce() {
        if (!released.compareAndSet(false, true)) {
            return false;
        }
        release.run();
        return true;
    }

    private void transition(State from, State to) {
        if (!state.compareAndSet(from, to)) {
            throw new IllegalStateException(capitalized() + " cannot go from " + state.get() + " to " + to);
        }
    }

    private String capitalized() {
        return Character.toUpperCase(name.charAt(0)) + name.substring(1);
    }
}
