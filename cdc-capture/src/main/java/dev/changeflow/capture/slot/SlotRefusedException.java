package dev.changeflow.capture.slot;

/**
 * A slot operation was refused because doing it now could lose data or disturb a running capture; nothing was
 * changed. The message says why and what to do instead.
 */
public final class SlotRefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SlotRefusedException(String message) {
        super(message);
    }
}
