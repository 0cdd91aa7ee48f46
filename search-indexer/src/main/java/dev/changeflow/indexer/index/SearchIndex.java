package dev.changeflow.indexer.index;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import dev.changeflow.router.subscription.FailureKind;

/**
 * The search engine, as the indexer uses it: one index per {@link DocumentType}, holding live documents and
 * tombstones, written by compare-and-set.
 *
 * <p><b>Consistency.</b> {@link #get} and {@link #tasksOfProject} see every write that {@link #write} has returned
 * from, at once (real time), whatever the engine's refresh schedule. {@link #search} is near-real-time: a write
 * becomes searchable within the engine's refresh interval (at once for Lucene; {@code refresh_interval} for
 * OpenSearch).
 *
 * <p><b>Durability.</b> When {@link #write} returns, its writes survive a crash of the process and of the engine
 * (Lucene: committed and synced; OpenSearch: in the translog, fsynced per request).
 *
 * <p><b>Failures.</b> An engine that cannot be reached or answers that it is overloaded or unavailable makes a method
 * throw an exception that {@link dev.changeflow.router.subscription.Outages#isOutage} or the adapter's
 * {@link #isOutage} recognises; the caller retries the whole operation, which is safe since writes are conditional.
 * Any other exception is permanent for the documents involved, unless {@link #classify} says the engine's client is
 * broken for good; then {@link #reopen} replaces it.
 *
 * <p>Implementations are thread-safe. Lifecycle: {@link #open} once, then any calls, then {@link #close} once.
 */
public interface SearchIndex extends AutoCloseable {

    /**
     * Connects and creates the indices (with their mappings) that do not exist yet; leaves existing ones and their
     * documents untouched.
     */
    void open();

    /**
     * The stored documents (live or tombstone) with these ids, in real time, by id; an id without a document is
     * absent from the map.
     */
    Map<String, StoredDocument> get(DocumentType type, Collection<String> ids);

    /**
     * Applies each write whose expectation holds and reports, per write in order, whether it was applied ({@code
     * true}) or its expectation failed ({@code false}: the document changed or appeared since it was read). Writes
     * of different ids are independent. Durable on return.
     */
    List<Boolean> write(List<ConditionalWrite> writes);

    /** Every live task document whose {@code project_id} is {@code projectId}, in real time, with revisions. */
    List<StoredDocument> tasksOfProject(String projectId);

    /**
     * Live documents matching {@code query}, in the Lucene query syntax ({@code title:report AND status:done}); a
     * query naming no field searches {@link DocumentType#defaultFields()}; terms are ANDed.
     *
     * @throws InvalidQueryException if the query does not parse
     */
    SearchHits search(DocumentType type, String query, int limit);

    /** Every live document of {@code type}, by id: for checks and tests, not for large indices. */
    Map<String, IndexedDocument> liveDocuments(DocumentType type);

    /** Whether {@code error}, thrown by this index, means the engine is unavailable (retry) rather than refusing. */
    boolean isOutage(Throwable error);

    /**
     * What {@code error}, thrown by this index, means: the one place per engine. {@link FailureKind#OUTAGE} when the
     * engine is unavailable ({@link #isOutage}), {@link FailureKind#BROKEN} when this process's client or writer is
     * broken for good and must be {@link #reopen reopened}, else {@link FailureKind#FAULT}: the documents are refused.
     */
    default FailureKind classify(Throwable error) {
        return isOutage(error) ? FailureKind.OUTAGE : FailureKind.FAULT;
    }

    /**
     * Replaces what {@link #classify} found broken, keeping every durable document; calls running on the broken
     * parts fail (and are retried by their callers). Blocking.
     *
     * @throws RuntimeException if it cannot: the index is unusable, and the process should exit
     */
    void reopen();

    /** How many times {@link #reopen} has replaced what was broken: a caller can tell whether it happened meanwhile. */
    long reopens();

    /**
     * Returns once every write that {@link #get} could see when it was called is durable, including writes of other
     * callers still in progress: for a caller that found its work already done by a concurrent one and must not
     * report it done before it is durable.
     */
    void awaitDurable();

    /** A short description for logs, without credentials, such as {@code lucene /var/lib/changeflow/search}. */
    String describe();

    /** Releases every resource; further calls fail. */
    @Override
    void close();
}
