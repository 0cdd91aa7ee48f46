package dev.changeflow.router.subscription;

/**
 * Thrown (or signalled) by a handler when a system it depends on is unavailable rather than the event being at fault.
 * The subscription retries such a failure with backoff for as long as it lasts; it never dead-letters the event and
 * never commits past it.
 */
public class OutageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public OutageException(String message, Throwable cause) {
        super(message, cause);
    }
}
