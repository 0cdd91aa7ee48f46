package dev.changeflow.cli;

import picocli.CommandLine.Command;

/**
 * {@code changeflow dlt}: the dead-letter topics ({@code <topic>.dlt}). {@code list} shows them and their records,
 * {@code replay} republishes dead letters to their original topics once the cause is fixed, never one twice (see
 * {@link dev.changeflow.router.ops.DeadLetters}). Exit codes: 0 done, 1 Kafka failed, 2 a bad setting or option (one
 * line on stderr names it), 3 a replay taken over by another replay of the same topic started after it.
 */
@Command(name = "dlt", mixinStandardHelpOptions = true,
        description = "Lists dead-letter topics and their records, and replays them to their original topics.",
        subcommands = {DltListCommand.class, DltReplayCommand.class})
final class DltCommand {
}
