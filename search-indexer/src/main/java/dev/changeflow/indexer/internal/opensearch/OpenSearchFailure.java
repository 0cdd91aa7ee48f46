package dev.changeflow.indexer.internal.opensearch;

/**
 * A failure that OpenSearch reported for one part of an otherwise answered request: a bulk item, an mget item, a
 * shard of a search or refresh. Never thrown alone: it is the cause of an {@link OpenSearchUnavailableException} or an
 * {@link OpenSearchRefusedException}, where {@link OpenSearchIndex#isOutage} reads its status and type.
 */
public final class OpenSearchFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String type;

    /**
     * @param status the HTTP status OpenSearch gave the part, or 0 where it gives none (mget items, shard failures)
     * @param type OpenSearch's error type, such as {@code mapper_parsing_exception}; may be null
     * @param where the index and document id, or the index and shard
     * @param reason OpenSearch's reason, with its causes
     */
    OpenSearchFailure(int status, String type, String where, String reason) {
        super(where + ": " + (status == 0 ? "" : status + " ") + type + ": " + reason, null, false, false);
        this.status = status;
        this.type = type;
    }

    /** The HTTP status of the part, or 0 if OpenSearch gave none. */
    public int status() {
        return status;
    }

    /** OpenSearch's error type, such as {@code version_conflict_engine_exception}; may be null. */
    public String type() {
        return type;
    }
}
