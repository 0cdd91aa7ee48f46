package dev.changeflow.capture.schema;

import java.util.List;

/**
 * Where capture registers row schema versions: its schema topic, or a schema registry. Implementations decide which
 * failures are outages ({@link Unavailable}: retried until they end) and which are permanent ({@link Refused}).
 */
public interface SchemaStore extends AutoCloseable {

    /** Every version registered so far for {@code subjects}. */
    List<SchemaVersion> load(List<String> subjects);

    /**
     * Registers {@code candidate}'s schema under its subject and returns it with the version and id the store gave
     * it. Registering a schema the subject already has returns that version (registering is idempotent).
     *
     * @param candidate the version to register; its {@code version} and {@code id} are ignored
     */
    SchemaVersion register(SchemaVersion candidate);

    @Override
    void close();

    /** The store cannot be reached now; retrying later may succeed. */
    final class Unavailable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The store refused the schema for good (retrying sends the same request and gets the same answer). */
    final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public Refused(String message) {
            super(message);
        }
    }
}
