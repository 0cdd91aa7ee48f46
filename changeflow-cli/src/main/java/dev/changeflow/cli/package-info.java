/**
 * The runnable {@code changeflow} application (picocli), launched by the repository's {@code ./changeflow} script:
 * <ul>
 *   <li>{@code changeflow demo}: the whole pipeline on servers started here, with a workload and a status board
 *       ({@code internal.demo});</li>
 *   <li>{@code changeflow run capture|invalidator|indexer|all}: services against external servers, through
 *       {@link dev.changeflow.router.service.ServiceProcess};</li>
 *   <li>{@code changeflow migrate}: the Flyway migrations of schema {@code app}.</li>
 * </ul>
 * Its public API is the command line; nothing depends on this module.
 */
package dev.changeflow.cli;
