package dev.changeflow.indexer;

import java.io.IOException;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FilterDirectory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexOutput;

/**
 * A disk in trouble, for the indexer's self-healing tests: wraps every Lucene directory the index opens (anew on each
 * reopen) and can stall {@code sync} (a slow or saturated disk), or interrupt the thread that opens a file (what a
 * cancelled task did to Lucene before the indexer stopped interrupting). Records whether a stalled {@code sync} was
 * ever interrupted. Thread-safe.
 */
final class DiskTroubles {
    private final AtomicInteger stallsLeft = new AtomicInteger();
    private volatile long stallNanos;
    private volatile long everySyncNanos;
    private final AtomicInteger interruptsLeft = new AtomicInteger();
    final AtomicInteger stalled = new AtomicInteger();
    final AtomicInteger interruptedWhileStalled = new AtomicInteger();
    final AtomicInteger interruptsMade = new AtomicInteger();

    /** The next {@code count} syncs each take {@code millis}. */
    void stallNextSyncs(int count, long millis) {
        stallNanos = TimeUnit.MILLISECONDS.toNanos(millis);
        stallsLeft.set(count);
    }

    /** Every sync takes at least {@code millis} (0: as fast as the disk). */
    void slowEverySync(long millis) {
        everySyncNanos = TimeUnit.MILLISECONDS.toNanos(millis);
    }

    /** The next file the writer creates is created by an interrupted thread. */
    void interruptNextFileCreation() {
        interruptsLeft.set(1);
    }

    Directory wrap(Directory directory) {
        return new FilterDirectory(directory) {
            @Override
            public void sync(Collection<String> names) throws IOException {
                if (stallsLeft.getAndDecrement() > 0) {
                    stalled.incrementAndGet();
                    pause(stallNanos);
                } else if (everySyncNanos > 0) {
                    pause(everySyncNanos);
                }
                super.sync(names);
            }

            @Override
            public IndexOutput createOutput(String name, IOContext context) throws IOException {
                if (interruptsLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    interruptsMade.incrementAndGet();
                    Thread.currentThread().interrupt();
                }
                return super.createOutput(name, context);
            }
        };
    }

    /** Holds the calling thread for {@code nanos}, as a stalled disk would, noting an interrupt if one comes. */
    private void pause(long nanos) {
        long until = System.nanoTime() + nanos;
        for (long left = nanos; left > 0; left = until - System.nanoTime()) {
            LockSupport.parkNanos(left);
            if (Thread.currentThread().isInterrupted()) {
                interruptedWhileStalled.incrementAndGet();
                return;
            }
        }
    }
}
