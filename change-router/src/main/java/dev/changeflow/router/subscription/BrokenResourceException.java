package dev.changeflow.router.subscription;

/**
 * A subscription's {@link Dependency} is broken for good: it could not be reopened, or broke again each time it was.
 * The subscription stops with it ({@link Subscription#whenTerminated()} completes exceptionally), so the service
 * fails and its process exits for its supervisor to restart it.
 */
public final class BrokenResourceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BrokenResourceException(String message, Throwable cause) {
        super(message, cause);
    }
}
