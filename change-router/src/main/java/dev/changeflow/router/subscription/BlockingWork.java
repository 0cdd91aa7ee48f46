package dev.changeflow.router.subscription;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Runs a handler's blocking I/O on threads that are never interrupted, for resources that an interrupt can break
 * (Lucene documents that interrupting a thread inside {@code IndexWriter} may close it, and an interrupted NIO
 * channel is closed for good).
 *
 * <p>The {@code Mono} of {@link #run} may be cancelled (a handler timeout, a shutdown): work that has not started yet
 * is then skipped, and work that is running goes on to its end on its thread, untouched, its result dropped. A
 * subscription retries the call as usual, so a retry may overlap the abandoned attempt: handlers using this must be
 * idempotent under such overlap (conditional, versioned writes are). At most {@code threads} pieces of work run at
 * once; more wait in line.
 *
 * <p>Thread-safe. {@link #close} waits for running work to finish, so the resource it uses can then be closed safely.
 */
public final class BlockingWork implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BlockingWork.class);

    private static final int QUEUED = 0;
    private static final int RUNNING = 1;
    private static final int ABANDONED = 2;
    private static final int SKIPPED = 3;
    private static final int DONE = 4;

    private final String name;
    private final ThreadPoolExecutor executor;
    private final AtomicInteger abandoned = new AtomicInteger();

    private BlockingWork(String name, int threads) {
        this.name = name;
        AtomicInteger count = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                r -> {
                    Thread thread = new Thread(r, "changeflow-" + name + "-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
    }

    /**
     * @param name names the threads ({@code changeflow-<name>-<n>}) and log lines
     * @param threads how many pieces of work may run at once, at least 1 (a subscription's concurrency)
     */
    public static BlockingWork create(String name, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1: " + threads);
        }
        return new BlockingWork(name, threads);
    }

    /**
     * Runs {@code work} on one of the threads when subscribed to; completes when it returns, or with what it threw.
     * Cancelling the {@code Mono} never interrupts it (see the class comment).
     */
    public Mono<Void> run(Runnable work) {
        return Mono.defer(() -> {
            // QUEUED -> RUNNING -> DONE, or QUEUED -> SKIPPED (cancelled before it started), or
            // RUNNING -> ABANDONED (cancelled while running) -> DONE.
            AtomicInteger phase = new AtomicInteger(QUEUED);
            CompletableFuture<Void> done = new CompletableFuture<>();
            try {
                executor.execute(() -> {
                    if (!phase.compareAndSet(QUEUED, RUNNING)) {
                        return;
                    }
                    try {
                        work.run();
                        done.complete(null);
                    } catch (Throwable e) {
                        done.completeExceptionally(e);
                    } finally {
                        // Work that interrupted its own thread must not leave the flag for the next piece of work.
                        Thread.interrupted();
                        if (phase.getAndSet(DONE) == ABANDONED) {
                            abandoned.decrementAndGet();
                            LOG.info("{}: abandoned work finished; its result was dropped", name);
                        }
                    }
                });
            } catch (RejectedExecutionException e) {
                return Mono.error(new IllegalStateException(name + " is closed", e));
            }
            return Mono.fromFuture(done, true).doOnCancel(() -> {
                if (!phase.compareAndSet(QUEUED, SKIPPED) && phase.compareAndSet(RUNNING, ABANDONED)) {
                    abandoned.incrementAndGet();
                    LOG.info("{}: a call was cancelled while its blocking work ran; the work goes on to its end, "
                            + "uninterrupted, and its result is dropped", name);
                }
            })
                    // The caller goes on elsewhere: these threads only ever run the work.
                    .publishOn(NonInterrupting.SCHEDULER);
        });
    }

    /** Pieces of work cancelled while running that have not finished yet. */
    public int abandonedRunning() {
        return Math.max(0, abandoned.get());
    }

    /** Takes no more work and waits up to {@code timeout} for running work to finish; never interrupts it. */
    public void close(Duration timeout) {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("{}: work still running {} after close; left to finish on its own", name, timeout);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@link #close(Duration)} with 30 s. */
    @Override
    public void close() {
        close(Duration.ofSeconds(30));
    }
}
