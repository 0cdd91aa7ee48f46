package dev.changeflow.router.subscription;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.errors.RetriableException;

/**
 * The one place that decides whether a failure is an outage (a server we depend on is unreachable or not answering:
 * wait it out) or something wrong with the work itself (retry a few times, then dead-letter). Walks the whole cause
 * chain, so a wrapped connection failure still counts.
 */
public final class Outages {
    private Outages() {
    }

    /**
     * True if {@code error}, or any of its causes, says a dependency is unavailable: an {@link OutageException}, a
     * refused, unroutable or timed-out connection, an unresolvable host, a closed channel, a timeout, or a Kafka error
     * that Kafka itself calls retriable. Null is not an outage.
     */
    public static boolean isOutage(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OutageException
                    || t instanceof ConnectException
                    || t instanceof NoRouteToHostException
                    || t instanceof SocketTimeoutException
                    || t instanceof UnknownHostException
                    || t instanceof ClosedChannelException
                    || t instanceof TimeoutException
                    || t instanceof RetriableException
                    || t instanceof org.apache.kafka.common.errors.TimeoutException) {
                return true;
            }
        }
        return false;
    }
}
