package dev.changeflow.indexer.internal;

import dev.changeflow.indexer.index.ConditionalWrite;
import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.index.IndexGenerations;
import dev.changeflow.indexer.index.IndexGenerations.Generation;
import dev.changeflow.indexer.index.IndexedDocument;
import dev.changeflow.indexer.index.SearchHits;
import dev.changeflow.indexer.index.SearchIndex;
import dev.changeflow.indexer.index.StoredDocument;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.subscription.FailureKind;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The generation of the index that the indexer uses now, as a {@link SearchIndex} for searches and reads, and the
 * one way live batches reach the index ({@link #apply}). During a rebuild it also <em>mirrors</em> live batches to the
 * generation being built ({@link #mirrorTo}), then switches everything to it ({@link #switchTo}).
 *
 * <p><b>Routes.</b> Every read and every batch takes the route in force when it starts and keeps it to its end, so a
 * batch never writes half to one generation and half to another. {@link #mirrorTo}, {@link #stopMirroring} and
 * {@link #switchTo} install a new route and return once no read or batch uses the previous one any more, including
 * batches the subscription abandoned after its handler timeout (they still run, on their thread): when
 * {@link #mirrorTo} returns, every batch that runs or will run writes to the new generation too; when
 * {@link #switchTo} returns, nothing uses the old generation any more and it may be closed.
 *
 * <p><b>Mirror failures</b> never fail a live batch (the live generation is what the group's offsets stand for): they
 * are handed to the rebuild, which abandons the new generation.
 *
 * <p>Thread-safe. Lifecycle: {@link #open} once, {@link #close} once.
 */
public final class GenerationSwitch implements SearchIndex {
    private final IndexGenerations generations;
    private final IndexerMetrics liveMetrics;
    private final IndexerMetrics mirrorMetrics;
    private final Object lock = new Object();
    /** Guarded by {@link #lock}; null before {@link #open} and after {@link #close}. */
    private Route route;

    /**
     * @param liveMetrics the meters of live batches
     * @param mirrorMetrics the meters of mirrored batches (not the live ones: they would count every change twice)
     */
    public GenerationSwitch(IndexGenerations generations, IndexerMetrics liveMetrics, IndexerMetrics mirrorMetrics) {
        this.generations = Objects.requireNonNull(generations, "generations");
        this.liveMetrics = Objects.requireNonNull(liveMetrics, "liveMetrics");
        this.mirrorMetrics = Objects.requireNonNull(mirrorMetrics, "mirrorMetrics");
    }

    /** Where reads and batches go; {@code users} counts those that took it and have not finished. */
    private static final class Route {
        final Generation live;
        final ChangeIndexer liveIndexer;
        final Generation mirror;
        final ChangeIndexer mirrorIndexer;
        final Consumer<RuntimeException> mirrorFailed;
        int users;

        Route(Generation live, ChangeIndexer liveIndexer, Generation mirror, ChangeIndexer mirrorIndexer,
                Consumer<RuntimeException> mirrorFailed) {
            this.live = live;
            this.liveIndexer = liveIndexer;
            this.mirror = mirror;
            this.mirrorIndexer = mirrorIndexer;
            this.mirrorFailed = mirrorFailed;
        }
    }

    /** The generations this switch moves between. */
    public IndexGenerations generations() {
        return generations;
    }

    /** Opens the current generation ({@link IndexGenerations#openCurrent}). */
    @Override
    public void open() {
        synchronized (lock) {
            if (route != null) {
                throw new IllegalStateException("Already open: " + describe());
            }
            Generation current = generations.openCurrent();
            route = new Route(current, new ChangeIndexer(current.index(), liveMetrics), null, null, null);
        }
    }

    /** The generation searches and live batches use now. @throws IllegalStateException if not open */
    public Generation live() {
        return use(r -> r.live);
    }

    /**
     * Applies a live batch to the live generation ({@link ChangeIndexer#apply}), then, while mirroring, to the
     * generation being rebuilt. Throws what the live generation throws; a failure of the mirror goes to the
     * rebuild's handler instead.
     */
    public void apply(List<ChangeEvent> events) {
        Route r = acquire();
        try {
            r.liveIndexer.apply(events);
            if (r.mirror != null) {
                try {
                    r.mirrorIndexer.apply(events);
                } catch (RuntimeException e) {
                    r.mirrorFailed.accept(e);
                }
            }
        } finally {
            release(r);
        }
    }

    /**
     * From now on, live batches are applied to {@code next} too; returns once no batch that does not is running.
     *
     * @param mirrorFailed told when a mirrored write fails (on the batch's thread: it must not block)
     */
    public void mirrorTo(Generation next, Consumer<RuntimeException> mirrorFailed) throws InterruptedException {
        Objects.requireNonNull(mirrorFailed, "mirrorFailed");
        Route previous;
        synchronized (lock) {
            previous = requireOpen();
            route = new Route(previous.live, previous.liveIndexer, next,
                    new ChangeIndexer(next.index(), mirrorMetrics), mirrorFailed);
        }
        awaitUnused(previous);
    }

    /** Stops mirroring (a rebuild gave up); returns once no batch writes to the mirror any more. */
    public void stopMirroring() throws InterruptedException {
        Route previous;
        synchronized (lock) {
            previous = requireOpen();
            route = new Route(previous.live, previous.liveIndexer, null, null, null);
        }
        awaitUnused(previous);
    }

    /**
     * Makes {@code next} the generation of every search and live batch from now on; returns the previous one once no
     * read or batch uses it any more (the caller closes it).
     */
    public Generation switchTo(Generation next) throws InterruptedException {
        Route previous;
        synchronized (lock) {
            previous = requireOpen();
            route = new Route(next, new ChangeIndexer(next.index(), liveMetrics), null, null, null);
        }
        awaitUnused(previous);
        return previous.live;
    }

    private Route requireOpen() {
        if (route == null) {
            throw new IllegalStateException("The search index is not open: " + generations.describe());
        }
        return route;
    }

    private Route acquire() {
        synchronized (lock) {
            Route r = requireOpen();
            r.users++;
            return r;
        }
    }

    private void release(Route r) {
        synchronized (lock) {
            if (--r.users == 0) {
                lock.notifyAll();
            }
        }
    }

    private void awaitUnused(Route r) throws InterruptedException {
        synchronized (lock) {
            while (r.users > 0) {
                lock.wait();
            }
        }
    }

    private <T> T use(Function<Route, T> call) {
        Route r = acquire();
        try {
            return call.apply(r);
        } finally {
            release(r);
        }
    }

    private <T> T onLive(Function<SearchIndex, T> call) {
        return use(r -> call.apply(r.live.index()));
    }

    @Override
    public Map<String, StoredDocument> get(DocumentType type, Collection<String> ids) {
        return onLive(i -> i.get(type, ids));
    }

    @Override
    public List<Boolean> write(List<ConditionalWrite> writes) {
        return onLive(i -> i.write(writes));
    }

    @Override
    public List<StoredDocument> tasksOfProject(String projectId) {
        return onLive(i -> i.tasksOfProject(projectId));
    }

    @Override
    public SearchHits search(DocumentType type, String query, int limit) {
        return onLive(i -> i.search(type, query, limit));
    }

    @Override
    public Map<String, IndexedDocument> liveDocuments(DocumentType type) {
        return onLive(i -> i.liveDocuments(type));
    }

    @Override
    public boolean isOutage(Throwable error) {
        return onLive(i -> i.isOutage(error));
    }

    @Override
    public FailureKind classify(Throwable error) {
        return onLive(i -> i.classify(error));
    }

    @Override
    public void reopen() {
        onLive(i -> {
            i.reopen();
            return null;
        });
    }

    @Override
    public long reopens() {
        return onLive(SearchIndex::reopens);
    }

    @Override
    public void awaitDurable() {
        onLive(i -> {
            i.awaitDurable();
            return null;
        });
    }

    /** The live generation's index, with the generation's name: {@code lucene /data/search-index/gen-2}. */
    @Override
    public String describe() {
        synchronized (lock) {
            return route == null ? generations.describe() : route.live.index().describe();
        }
    }

    /** Closes the live generation (a rebuild in progress closes its own). */
    @Override
    public void close() {
        Route r;
        synchronized (lock) {
            r = route;
            route = null;
        }
        if (r != null) {
            r.live.index().close();
        }
    }
}
