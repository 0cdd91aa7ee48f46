package dev.changeflow.invalidator.internal;

import dev.changeflow.router.subscription.Outages;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import java.io.IOException;
import java.util.List;
import java.util.Locale;

/**
 * The one place that decides which Redis failures are outages: Redis cannot serve right now, so the batch is
 * retried without limit and never dead-lettered (a dead-lettered invalidation is a stale cache entry). Anything else
 * is a fault of the work and goes through the subscription's retries and dead-letter topic. Stateless.
 */
public final class RedisOutages {

    /** Lettuce's messages when it refuses a command because the connection is down or closed. */
    private static final List<String> DISCONNECTED_MESSAGES = List.of("not connected", "connection is closed",
            "connection closed", "connection reset", "disconnected");

    /**
     * Error replies of a server that cannot serve for now: loading its data after a restart, running a long
     * script, a replica after failover (read-only) or one that lost its primary, a cluster reconfiguring, or an
     * authentication that stopped working (the change is not at fault, so nothing should be dead-lettered for it).
     */
    private static final List<String> UNAVAILABLE_REPLIES = List.of("LOADING", "BUSY", "READONLY", "MASTERDOWN",
            "CLUSTERDOWN", "TRYAGAIN", "NOAUTH", "WRONGPASS");

    private RedisOutages() {
    }

    /**
     * True if {@code error}, or any of its causes, is a Redis outage: Lettuce's connection and command-timeout
     * exceptions, a command rejected because the client is not connected or the connection was closed, an I/O error
     * on the socket, an error reply from a server that cannot serve for now (see above), or anything
     * {@link Outages#isOutage} accepts (refused or timed-out connections, closed channels). Null is not an outage.
     */
    public static boolean isOutage(Throwable error) {
        if (Outages.isOutage(error)) {
            return true;
        }
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RedisConnectionException || t instanceof RedisCommandTimeoutException
                    || t instanceof IOException) {
                return true;
            }
            if (t instanceof RedisCommandExecutionException) {
                if (startsWithAny(t.getMessage(), UNAVAILABLE_REPLIES)) {
                    return true;
                }
            } else if (t instanceof RedisException && containsAny(t.getMessage(), DISCONNECTED_MESSAGES)) {
                return true;
            }
        }
        return false;
    }

    private static boolean startsWithAny(String message, List<String> prefixes) {
        if (message == null) {
            return false;
        }
        return prefixes.stream().anyMatch(p -> message.startsWith(p + " ") || message.equals(p));
    }

    private static boolean containsAny(String message, List<String> parts) {
        if (message == null) {
            return false;
        }
        String lower = message.toLowerCase(Locale.ROOT);
        return parts.stream().anyMatch(lower::contains);
    }
}
