package dev.changeflow.router.internal.subscription;

import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The scheduler the subscription runtime hops to off the consumer's thread and off {@code BlockingWork}'s threads.
 * Built with {@code Schedulers.fromExecutor}: disposing one of its tasks (a handler timeout, a close) never
 * interrupts the thread running it, as {@code Schedulers.parallel()} would, so no handler is interrupted inside I/O
 * by the runtime. Daemon threads, as many as cores (at least 2), shared by every subscription of the JVM.
 */
public final class NonInterrupting {
    private static final AtomicInteger COUNT = new AtomicInteger();

    /** The shared scheduler. */
    public static final Scheduler SCHEDULER = Schedulers.fromExecutor(Executors.newFixedThreadPool(
            Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
                Thread thread = new Thread(r, "changeflow-subscription-" + COUNT.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            }));

    private NonInterrupting() {
    }
}
