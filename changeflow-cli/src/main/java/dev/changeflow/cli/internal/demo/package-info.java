/**
 * {@code changeflow demo}: {@link dev.changeflow.cli.internal.demo.Demo} starts and stops everything,
 * {@code Workload} writes like an application, {@code StatusBoard} shows per-stage counts and latencies from the
 * process's meters, {@link dev.changeflow.cli.internal.demo.DemoSettings} declares the demo's settings.
 */
package dev.changeflow.cli.internal.demo;
