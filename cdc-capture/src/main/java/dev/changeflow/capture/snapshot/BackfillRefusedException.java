package dev.changeflow.capture.snapshot;

/**
 * A backfill request that cannot be carried out as asked: an unknown or uncaptured table, a condition that does not
 * parse or names a missing column, a second backfill of a table while one runs, nothing to stop. Nothing was changed;
 * the message is one line saying why. The CLI exits 2, the admin API answers 400 or 409.
 */
public final class BackfillRefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Whether the request conflicts with a backfill in progress (409), rather than being malformed (400). */
    private final boolean conflict;

    BackfillRefusedException(String message, boolean conflict) {
        super(message);
        this.conflict = conflict;
    }

    public boolean conflict() {
        return conflict;
    }
}
