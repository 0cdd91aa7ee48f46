/**
 * What every Changeflow service process shares: the {@link dev.changeflow.router.service.ChangeflowService}
 * lifecycle that capture, the cache invalidator and the search indexer implement;
 * {@link dev.changeflow.router.service.ServiceProcess}, the body of every {@code main} and of {@code changeflow run}
 * (settings, start order, exit codes, shutdown on signals); and the
 * {@link dev.changeflow.router.service.OpsEndpoint} ({@code /health}, {@code /ready}, {@code /metrics}) configured by
 * {@link dev.changeflow.router.service.OpsSettings}.
 */
package dev.changeflow.router.service;
