package dev.changeflow.router.subscription;

import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Reactor schedulers that never interrupt a thread: the one the subscription runtime hops to off the consumer's
 * thread and off {@link BlockingWork}'s threads, and {@link #of} for a component's own thread (capture's transactions).
 * Built with {@code Schedulers.fromExecutor}: disposing one of its tasks (a handler timeout, a close) never
 * interrupts the thread running it, as {@code Schedulers.parallel()} would, so no handler is interrupted inside I/O
 * by the runtime. Daemon threads, as many as cores (at least 2), shared by every subscription of the JVM.
 */
public final class NonInterrupting {
    private static final AtomicInteger COUNT = new AtomicInteger();

    /** The shared scheduler. */
    public static final Scheduler SCHEDULER = of(Executors.newFixedThreadPool(
            Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
                Thread thread = new Thread(r, "changeflow-subscription-" + COUNT.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            }));

    /**
     * A scheduler on {@code executor} whose task disposal never interrupts. Reactor's {@code fromExecutor} hands an
     * {@link java.util.concurrent.ExecutorService} to {@code fromExecutorService}, which does interrupt; so the
     * executor is handed over as a plain {@link Executor}.
     */
    public static Scheduler of(Executor executor) {
        Executor plain = executor::execute;
        return Schedulers.fromExecutor(plain);
    }

    private NonInterrupting() {
    }
}
