package dev.changeflow.router;

/**
 * A message is not a change event this version of Changeflow can read: not JSON, a required field missing, an
 * unknown {@code op} or {@code schemaVersion}, or values the {@link ChangeEvent} contract forbids. The message says
 * which. Retrying cannot help: a consumer sends such a message to the dead-letter topic.
 */
public final class MalformedEventException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An exception with the given one-line explanation and cause (may be null). */
    public MalformedEventException(String message, Throwable cause) {
        super(message, cause);
    }
}
