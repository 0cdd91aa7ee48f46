package dev.changeflow.indexer.internal.opensearch;

import dev.changeflow.router.subscription.OutageException;

/**
 * OpenSearch could not be reached, or answered that it cannot serve the request now (overloaded, shards unavailable,
 * blocked). An {@link OutageException}: the caller retries the whole operation once OpenSearch is back, which is safe
 * since every write is conditional.
 */
public final class OpenSearchUnavailableException extends OutageException {
    private static final long serialVersionUID = 1L;

    OpenSearchUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
