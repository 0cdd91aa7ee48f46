package dev.changeflow.router.service;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One of Changeflow's long-running services (capture, cache invalidator, search indexer) as a process hosts it: started
 * once, ready once it does its work, running until closed or until it fails, never restarted.
 *
 * <p>{@link ServiceProcess} runs one or several of them in a process and reports them on {@code /health} and
 * {@code /ready}. Implementations are thread-safe.
 */
public interface ChangeflowService extends AutoCloseable {

    /** Short name used in logs, health reports and metrics, such as {@code capture}. */
    String name();

    /**
     * Connects and starts working; returns once the service runs (its work goes on in the background).
     *
     * @throws dev.changeflow.config.ConfigException naming the setting at fault when a dependency cannot be used
     * @throws IllegalStateException when it cannot start for another reason, or was already started or closed
     */
    void start();

    /**
     * Whether the service has started, has not stopped or failed, and is doing its work (not {@link #problem()
     * stalled}): what {@code /ready} reports.
     */
    boolean isReady();

    /**
     * Why a running service is not doing its work, in one line for an operator, such as {@code search-indexer:
     * stalled 2 min on cdc.tasks-changes-7: IndexWriter closed}; empty while it works (the default).
     */
    default java.util.Optional<String> problem() {
        return java.util.Optional.empty();
    }

    /**
     * Completes normally after {@link #close()}, exceptionally when the service stopped on an error it cannot
     * retry (or its start failed). Never null.
     */
    CompletableFuture<Void> whenTerminated();

    /**
     * Asks this service's consumers to rebalance ({@code POST /consumer/rebalance}).
     *
     * @return the consumer groups asked; empty for a service that consumes nothing (the default)
     */
    default List<String> requestRebalance() {
        return List.of();
    }

    /** Admin API routes this service adds to its process ({@code /slots} for capture); none by default. */
    default List<AdminRoute> adminRoutes() {
        return List.of();
    }

    /** Stops gracefully, finishing and committing the work in hand. Idempotent. */
    @Override
    void close();
}
