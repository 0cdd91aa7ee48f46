package dev.changeflow.indexer.internal.lucene;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.lucene.index.IndexWriter;

/**
 * Makes an {@link IndexWriter}'s changes durable by group commit: a caller that has written asks for the next
 * commit and waits for it; callers arriving while a commit runs share the one after it. Under load one commit (and
 * one fsync) covers the writes of every concurrent batch; when idle, each batch gets its own.
 */
final class GroupCommitter implements AutoCloseable {
    private final IndexWriter writer;
    private final ExecutorService executor;
    private final Object lock = new Object();
    private CompletableFuture<Void> next;
    private boolean committing;

    GroupCommitter(IndexWriter writer, String name) {
        this.writer = writer;
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, "changeflow-lucene-commit-" + name);
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Waits until a commit that started after this call has finished: every write made before it is durable. */
    void awaitDurable() {
        CompletableFuture<Void> commit;
        synchronized (lock) {
            if (next == null) {
                next = new CompletableFuture<>();
                try {
                    executor.execute(this::commit);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    next = null;
                    throw new org.apache.lucene.store.AlreadyClosedException("this index's committer is closed", e);
                }
            }
            commit = next;
        }
        try {
            commit.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof IOException io) {
                throw new UncheckedIOException("Lucene commit failed: " + io.getMessage(), io);
            }
            throw e;
        }
    }

    /**
     * Waits as {@link #awaitDurable} does if anything written may not be durable yet (a commit is due or running, or
     * the writer has uncommitted changes); returns at once otherwise.
     */
    void awaitDurableIfPending() {
        boolean pending;
        synchronized (lock) {
            pending = next != null || committing || writer.hasUncommittedChanges();
        }
        if (pending) {
            awaitDurable();
        }
    }

    private void commit() {
        CompletableFuture<Void> commit;
        synchronized (lock) {
            commit = next;
            next = null;
            committing = true;
        }
        try {
            writer.commit();
            commit.complete(null);
        } catch (IOException | RuntimeException | Error e) {
            commit.completeExceptionally(e);
        } finally {
            synchronized (lock) {
                committing = false;
            }
        }
    }

    @Override
    public void close() {
        executor.shutdown();
        try {
            executor.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
