package dev.changeflow.router.subscription;

/**
 * The headers of a record on a dead-letter topic ({@code <topic>.dlt}). The record keeps the original key and value
 * byte for byte, and its original headers; these are added. All values are UTF-8 strings.
 */
public final class DeadLetterHeaders {
    /** The topic the record was read from. */
    public static final String ORIGINAL_TOPIC = "dlt-original-topic";
    /** Its partition there, in decimal. */
    public static final String ORIGINAL_PARTITION = "dlt-original-partition";
    /** Its offset there, in decimal. */
    public static final String ORIGINAL_OFFSET = "dlt-original-offset";
    /** Its key, or absent if it had none. */
    public static final String ORIGINAL_KEY = "dlt-original-key";
    /** Why it was dead-lettered: {@value #REASON_UNDECODABLE} or {@value #REASON_HANDLER_FAILED}. */
    public static final String REASON = "dlt-reason";
    /** Fully qualified class name of the last error. */
    public static final String ERROR_CLASS = "dlt-error-class";
    /** Message of the last error (may be empty). */
    public static final String ERROR_MESSAGE = "dlt-error-message";
    /** How many times the handler was called for the record alone: 0 if undecodable, else 1 + retries. */
    public static final String ATTEMPTS = "dlt-attempts";
    /** When it was dead-lettered, ISO-8601 UTC. */
    public static final String FAILED_AT = "dlt-failed-at";
    /** The consumer group that gave up on it. */
    public static final String GROUP = "dlt-group";

    /** The value is not a valid v1 change event; it went to the dead-letter topic without reaching the handler. */
    public static final String REASON_UNDECODABLE = "undecodable";
    /** The handler failed on every attempt. */
    public static final String REASON_HANDLER_FAILED = "handler-failed";

    private DeadLetterHeaders() {
    }
}
