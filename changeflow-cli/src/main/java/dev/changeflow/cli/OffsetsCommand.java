package dev.changeflow.cli;

import dev.changeflow.cli.internal.ops.OpsCommandSupport;
import dev.changeflow.config.ConfigException;
import dev.changeflow.router.ops.ConsumerOffsets;
import dev.changeflow.router.ops.ConsumerOffsets.GroupActiveException;
import dev.changeflow.router.ops.ConsumerOffsets.PartitionChange;
import dev.changeflow.router.ops.ConsumerOffsets.Plan;
import dev.changeflow.router.ops.ConsumerOffsets.Target;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.OptionalLong;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code changeflow offsets}: the committed offsets of consumer groups. Its one subcommand, {@code reset}, moves a
 * group's offsets on one topic: a dry run unless {@code --execute} is given, refused while the group has members.
 */
@Command(name = "offsets", mixinStandardHelpOptions = true,
        description = "Consumer group offsets: 'offsets reset' moves a group's offsets on a topic.",
        subcommands = OffsetsCommand.Reset.class)
final class OffsetsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    /** Without a subcommand: the usage, as a usage error. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return OpsCommandSupport.BAD_USAGE;
    }

    /**
     * {@code changeflow offsets reset --group G --topic T (--to-earliest | --to-datetime T | --shift-by N)
     * [--execute]}. Prints, per partition, the committed offset, the target and the change, and their totals. Exit
     * codes: 0 when planned (dry run) or applied; 3 when the group has members (also in a dry run, after the plan: the
     * same reset with {@code --execute} would be refused); 1 when Kafka answered with an error or the offsets changed
     * while applying; 2 for a bad setting or option (an unknown topic, a datetime that does not parse).
     */
    @Command(name = "reset", mixinStandardHelpOptions = true,
            description = {"Moves the committed offsets of a consumer group on one topic, so its consumers skip or "
                    + "process records again.", "A dry run unless --execute is given. Refused while the group has "
                    + "members: stop its consumers first."})
    static final class Reset implements Callable<Integer> {
        static final String ROW = "%-10s %14s %14s %14s%n";

        @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Properties file with settings.")
        Path config;

        @Option(names = "--group", required = true, paramLabel = "GROUP", description = "The consumer group.")
        String group;

        @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "The topic.")
        String topic;

        @ArgGroup(exclusive = true, multiplicity = "1")
        TargetOptions target;

        @Option(names = "--execute", description = "Apply the change (without it: show what would change).")
        boolean execute;

        @Spec
        CommandSpec spec;

        /** Exactly one of these. */
        static final class TargetOptions {
            @Option(names = "--to-earliest", required = true,
                    description = "To the first offset still in each partition.")
            boolean earliest;

            @Option(names = "--to-datetime", required = true, paramLabel = "DATETIME",
                    description = "To the first record at or after DATETIME (" + ConsumerOffsets.DATETIME_FORMS
                            + "); partitions with no such record go to their end.")
            String datetime;

            @Option(names = "--shift-by", required = true, paramLabel = "N",
                    description = "By N records from the committed offset: negative goes back (to process again), "
                            + "positive forward (to skip); kept within each partition's first and end offsets.")
            Long shiftBy;
        }

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Optional<OpsCommandSupport> loaded = CliSettings.opsSupport("offsets reset", config, spec);
            if (loaded.isEmpty()) {
                return OpsCommandSupport.BAD_USAGE;
            }
            OpsCommandSupport ops = loaded.get();
            Target wanted;
            if (target.datetime != null) {
                try {
                    wanted = Target.toDatetime(ConsumerOffsets.parseInstant(target.datetime));
                } catch (IllegalArgumentException e) {
                    return ops.fail(OpsCommandSupport.BAD_USAGE, "--to-datetime=" + target.datetime
                            + ": not a date and time; give " + ConsumerOffsets.DATETIME_FORMS);
                }
            } else if (target.shiftBy != null) {
                wanted = Target.shiftBy(target.shiftBy);
            } else {
                wanted = Target.toEarliest();
            }
            try (Admin admin = ops.admin()) {
                ConsumerOffsets offsets = ConsumerOffsets.of(admin);
                Plan plan = offsets.plan(group, topic, wanted);
                if (!execute) {
                    print("dry run", plan, out);
                    out.println("Nothing was changed; add --execute to apply.");
                    out.flush();
                    return plan.groupActive()
                            ? ops.fail(OpsCommandSupport.REFUSED, "--execute would be refused: "
                                    + new GroupActiveException(group, plan.groupState(), plan.members(), null)
                                            .getMessage())
                            : OpsCommandSupport.OK;
                }
                offsets.apply(plan);
                print("applied", plan, out);
                return OpsCommandSupport.OK;
            } catch (ConfigException e) {
                return ops.badSetting(e);
            } catch (GroupActiveException e) {
                return ops.fail(OpsCommandSupport.REFUSED, e.getMessage());
            } catch (IllegalArgumentException e) {
                return ops.fail(OpsCommandSupport.BAD_USAGE, "--topic " + topic + ": " + e.getMessage());
            } catch (IllegalStateException e) {
                return ops.fail(OpsCommandSupport.FAILED, e.getMessage());
            } catch (ExecutionException e) {
                return ops.kafkaFailed(e);
            } catch (InterruptedException e) {
                return ops.interrupted();
            }
        }

        private static void print(String what, Plan plan, PrintWriter out) {
            out.println(what + ": consumer group " + plan.group() + " (" + plan.groupState() + ", " + plan.members()
                    + (plan.members() == 1 ? " member" : " members") + "), topic " + plan.topic() + ", "
                    + plan.target().describe());
            out.printf(ROW, "PARTITION", "CURRENT", "TARGET", "CHANGE");
            for (PartitionChange p : plan.partitions()) {
                out.printf(ROW, p.partition().partition(), text(p.current()), p.target(), signed(p.change()));
            }
            out.printf(ROW, "total", plan.currentTotal(), plan.targetTotal(),
                    signed(OptionalLong.of(plan.changeTotal())));
            out.flush();
        }

        private static String text(OptionalLong offset) {
            return offset.isPresent() ? Long.toString(offset.getAsLong()) : "-";
        }

        private static String signed(OptionalLong change) {
            if (change.isEmpty()) {
                return "-";
            }
            long c = change.getAsLong();
            return c > 0 ? "+" + c : Long.toString(c);
        }
    }
}
