package dev.changeflow.cli;

import dev.changeflow.router.service.ServiceProcess;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code changeflow} command: {@code demo} runs the whole pipeline on embedded servers, {@code run} runs services
 * against real ones, {@code migrate} applies the schema migrations; {@code slot}, {@code offsets}, {@code lag},
 * {@code dlt}, {@code topics}, {@code snapshot} (backfills) and {@code rebuild} (the search index) are the operators'
 * tools. Exit codes: 0 success, 1 a service or server failed,
 * 2 a bad setting or usage (one line on stderr says which), 3 an operation refused because it could lose or repeat
 * data (or a dead-letter replay taken over by another), 4 lag above the threshold, 128 + signal when stopped by one
 * (130 for Ctrl-C, 143 for SIGTERM).
 */
@Command(name = "changeflow", mixinStandardHelpOptions = true, versionProvider = Changeflow.Version.class,
        description = "Change-data capture and change propagation: Postgres -> Kafka -> Redis invalidation and search.",
        subcommands = {DemoCommand.class, RunCommand.class, MigrateCommand.class, SlotCommand.class,
                OffsetsCommand.class, LagCommand.class, DltCommand.class, TopicsCommand.class, SnapshotCommand.class,
                RebuildCommand.class, SchemaCommand.class})
public final class Changeflow {

    public static void main(String[] args) {
        if (args.length > 0 && "demo".equals(args[0])) {
            DemoCommand.useDemoLogging();
        } else {
            ServiceProcess.useDefaultLogging();
        }
        int status = new CommandLine(new Changeflow()).setUsageHelpAutoWidth(true).execute(args);
        // Exiting with 0 is left to the JVM: after a signal, System.exit would wait for the shutdown hooks forever.
        if (status != 0) {
            System.exit(status);
        }
    }

    /** The version of the running jar, from its manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Changeflow.class.getPackage().getImplementationVersion();
            return new String[] {"changeflow " + (version == null ? "(development build)" : version)};
        }
    }
}
