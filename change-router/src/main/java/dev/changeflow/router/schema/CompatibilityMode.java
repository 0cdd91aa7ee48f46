package dev.changeflow.router.schema;

/**
 * How a table's new row shape must relate to its previous one, with the meaning of the Confluent Schema Registry's
 * modes of the same names (checked against the latest version, not transitively).
 */
public enum CompatibilityMode {
    /** Consumers using the new shape can read events written with the previous one. The default. */
    BACKWARD,
    /** Consumers still using the previous shape can read events written with the new one. */
    FORWARD,
    /** Both {@link #BACKWARD} and {@link #FORWARD}. */
    FULL,
    /** No check: every change is compatible. */
    NONE;

    /** Whether a change that breaks readers of the new shape reading old events ({@code backward}) or readers of the
     * old shape reading new events ({@code forward}) breaks this mode. */
    public boolean isBrokenBy(boolean breaksBackward, boolean breaksForward) {
        return switch (this) {
            case BACKWARD -> breaksBackward;
            case FORWARD -> breaksForward;
            case FULL -> breaksBackward || breaksForward;
            case NONE -> false;
        };
    }
}
