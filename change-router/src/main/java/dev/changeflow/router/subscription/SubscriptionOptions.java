package dev.changeflow.router.subscription;

import static dev.changeflow.router.subscription.SubscriptionSettings.*;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import dev.changeflow.router.subscription.SubscriptionSettings.OffsetReset;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * How a subscription consumes: the values of {@link SubscriptionSettings}, validated together. Immutable.
 *
 * @param maxInFlight records fetched and not yet finished, at most (see {@link SubscriptionSettings#MAX_IN_FLIGHT})
 * @param concurrency partitions handled at the same time
 * @param batchSize most events per batch handler call
 * @param batchWait longest wait for a batch to fill
 * @param retries retries of a failed handler call before dead-lettering
 * @param retryBackoff first retry delay, doubling
 * @param retryMaxBackoff longest retry delay
 * @param outageBackoff first delay while a dependency is down, doubling
 * @param outageMaxBackoff longest delay while a dependency is down
 * @param handlerTimeout a handler call running longer is treated as an outage
 * @param commitInterval how often finished offsets are committed
 * @param rebalanceDrainTimeout how long a rebalance waits for fetched records to finish
 * @param shutdownTimeout how long close waits for running handlers
 * @param autoOffsetReset where a group without offsets starts
 * @param validateSchema whether each record is checked against the JSON Schema
 * @param deadLetterRetention retention of dead-letter topics created by the runtime
 * @param lagInterval how often the lag gauge is refreshed
 * @param startupTimeout how long startup waits for Kafka and the topics
 * @param stallLimit how long a partition with records waiting may make no progress before it counts as stalled
 */
public record SubscriptionOptions(int maxInFlight, int concurrency, int batchSize, Duration batchWait, int retries,
        Duration retryBackoff, Duration retryMaxBackoff, Duration outageBackoff, Duration outageMaxBackoff,
        Duration handlerTimeout, Duration commitInterval, Duration rebalanceDrainTimeout, Duration shutdownTimeout,
        OffsetReset autoOffsetReset, boolean validateSchema, Duration deadLetterRetention, Duration lagInterval,
        Duration startupTimeout, Duration stallLimit) {

    /** Records the consumer fetches per poll, at most: a sixteenth of the in-flight bound, and no more than 500. */
    public int pollRecords() {
        return pollRecordsFor(maxInFlight);
    }

    private static int pollRecordsFor(int maxInFlight) {
        return Math.max(1, Math.min(500, maxInFlight / 16));
    }

    /**
     * Records that may wait in the pipeline for a lane to take them: what the in-flight bound leaves after the fetch
     * buffer (up to four polls) and the lanes (one batch being filled and one being handled each).
     */
    public int queueCapacity() {
        return (int) queueCapacityFor(maxInFlight, concurrency, batchSize);
    }

    private static long queueCapacityFor(int maxInFlight, int concurrency, int batchSize) {
        return maxInFlight - 4L * pollRecordsFor(maxInFlight) - 2L * concurrency * batchSize;
    }

    /**
     * @throws IllegalArgumentException if the in-flight bound is too small for the concurrency and batch size, or a
     *     value is out of range; {@link #from} reports the same as a {@link ConfigException}
     */
    public SubscriptionOptions {
        Objects.requireNonNull(autoOffsetReset, "autoOffsetReset");
        for (Duration d : new Duration[] {batchWait, retryBackoff, retryMaxBackoff, outageBackoff, outageMaxBackoff,
                handlerTimeout, commitInterval, rebalanceDrainTimeout, shutdownTimeout, deadLetterRetention, lagInterval,
                startupTimeout, stallLimit}) {
            Objects.requireNonNull(d, "a duration");
        }
        if (concurrency < 1 || batchSize < 1 || retries < 0) {
            throw new IllegalArgumentException("concurrency and batch size must be at least 1, retries at least 0");
        }
        String problem = inFlightProblem(maxInFlight, concurrency, batchSize);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /** The defaults of every setting. */
    public static SubscriptionOptions defaults() {
        return from(Settings.of(Map.of()));
    }

    /**
     * The options given by {@code settings}.
     *
     * @throws ConfigException naming the setting at fault, its value and what is allowed
     */
    public static SubscriptionOptions from(Settings settings) {
        int maxInFlight = settings.get(MAX_IN_FLIGHT);
        int concurrency = settings.get(CONCURRENCY);
        int batchSize = settings.get(BATCH_SIZE);
        String problem = inFlightProblem(maxInFlight, concurrency, batchSize);
        if (problem != null) {
            throw ConfigException.unusable(MAX_IN_FLIGHT, Integer.toString(maxInFlight), problem);
        }
        return new SubscriptionOptions(maxInFlight, concurrency, batchSize, settings.get(BATCH_WAIT),
                settings.get(RETRIES), settings.get(RETRY_BACKOFF), settings.get(RETRY_MAX_BACKOFF),
                settings.get(OUTAGE_BACKOFF), settings.get(OUTAGE_MAX_BACKOFF), settings.get(HANDLER_TIMEOUT),
                settings.get(COMMIT_INTERVAL), settings.get(REBALANCE_DRAIN_TIMEOUT), settings.get(SHUTDOWN_TIMEOUT),
                settings.get(AUTO_OFFSET_RESET), settings.get(VALIDATE_SCHEMA), settings.get(DEAD_LETTER_RETENTION),
                settings.get(LAG_INTERVAL), settings.get(STARTUP_TIMEOUT), settings.get(STALL_LIMIT));
    }

    private static String inFlightProblem(int maxInFlight, int concurrency, int batchSize) {
        // The queue must hold at least one record per lane.
        if (queueCapacityFor(maxInFlight, concurrency, batchSize) < concurrency) {
            int pollRecords = pollRecordsFor(maxInFlight);
            long needed = 4L * pollRecords + 2L * concurrency * batchSize + concurrency;
            return "must be at least " + needed + " for " + CONCURRENCY.key() + "=" + concurrency + " and "
                    + BATCH_SIZE.key() + "=" + batchSize + " (4 polls of " + pollRecords + " + 2 x concurrency x "
                    + "batch size + concurrency); raise it or lower those";
        }
        return null;
    }
}
