package dev.changeflow.indexer.internal.opensearch;

/**
 * OpenSearch answered, and refused the request for a reason of the request's own (a document that does not fit the
 * mapping, a missing index, no permission). Retrying the same request fails the same way: permanent for the documents
 * involved. The message names the index, the document ids and OpenSearch's reason.
 */
public final class OpenSearchRefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    OpenSearchRefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}
