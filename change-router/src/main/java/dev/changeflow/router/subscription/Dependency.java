package dev.changeflow.router.subscription;

/**
 * The resource a subscription's handler writes to (a search index, a Redis connection): the one place that decides
 * what its errors mean ({@link #classify}) and how a resource broken for good is replaced ({@link #reopen}).
 *
 * <p>The subscription calls {@link #reopen} when a handler call fails with an error classified
 * {@link FailureKind#BROKEN}, once for all the lanes that saw the same breakage, never concurrently with itself, and on
 * a thread of its own that is never interrupted. Handler calls may still be running on the broken resource while it
 * is reopened: they fail and are retried. If {@code reopen} throws, or the resource breaks again
 * {@value #MAX_REOPENS_WITHOUT_PROGRESS} times in a row without a handler call succeeding in between, the subscription
 * fails with a {@link BrokenResourceException}.
 */
public interface Dependency {

    /** Reopens in a row without a successful handler call in between, after which the subscription gives up. */
    int MAX_REOPENS_WITHOUT_PROGRESS = 3;

    /**
     * What {@code error}, thrown by a handler call, means for this resource. Return {@link FailureKind#FAULT} for
     * errors it does not know: the subscription then still treats {@link Outages#isOutage outages} as outages.
     */
    FailureKind classify(Throwable error);

    /**
     * Replaces what is broken (closes it, releasing what it holds, and opens it anew). Blocking.
     *
     * @throws Exception if it cannot: the subscription then fails
     */
    void reopen() throws Exception;

    /** The resource for log lines and messages, without credentials, such as {@code lucene /var/lib/index}. */
    String describe();

    /**
     * No resource of its own: every error is left to the shared rules ({@link Outages}, {@code outageWhen}), and
     * nothing is ever broken.
     */
    static Dependency none(String description) {
        return new Dependency() {
            @Override
            public FailureKind classify(Throwable error) {
                return FailureKind.FAULT;
            }

            @Override
            public void reopen() {
                throw new UnsupportedOperationException(description + " cannot be reopened");
            }

            @Override
            public String describe() {
                return description;
            }
        };
    }
}
