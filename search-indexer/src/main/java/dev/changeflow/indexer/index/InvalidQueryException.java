package dev.changeflow.indexer.index;

/** A search query that does not parse; the message says where. Never a sign of an engine outage. */
public class InvalidQueryException extends RuntimeException {
    public InvalidQueryException(String message, Throwable cause) {
        super(message, cause);
    }
}
