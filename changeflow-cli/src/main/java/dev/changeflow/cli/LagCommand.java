package dev.changeflow.cli;

import dev.changeflow.cli.internal.ops.OpsCommandSupport;
import dev.changeflow.config.ConfigException;
import dev.changeflow.router.ops.LagMonitor;
import dev.changeflow.router.ops.LagReport;
import dev.changeflow.router.topics.ConsumerLag;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code changeflow lag}: the lag of every consumer group (or one) as the broker sees it, per topic (and partition),
 * per group and overall. Exit codes: 0 when no group's total is above the threshold, 4 when one is (the groups are
 * named on stderr), 1 when Kafka answered with an error, 2 for a bad setting or option.
 */
@Command(name = "lag", mixinStandardHelpOptions = true,
        description = {"Shows the lag of consumer groups per topic and their totals, read from Kafka (consumers may be "
                + "stopped).", "Exits with 4 if a group's total lag is above the threshold, for scripts."})
final class LagCommand implements Callable<Integer> {
    static final String ROW = "%-28s %-36s %10s %12s %12s %10s%n";

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Properties file with settings.")
    Path config;

    @Option(names = "--group", paramLabel = "GROUP", description = "Only this consumer group.")
    String group;

    @Option(names = "--threshold", paramLabel = "N", defaultValue = "" + LagMonitor.ALERT_THRESHOLD,
            description = "Exit with 4 when a group's total lag is above N (default: ${DEFAULT-VALUE}).")
    long threshold;

    @Option(names = "--per-partition", description = "Also show each partition: committed offset, end, lag.")
    boolean perPartition;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Optional<OpsCommandSupport> loaded = CliSettings.opsSupport("lag", config, spec);
        if (loaded.isEmpty()) {
            return OpsCommandSupport.BAD_USAGE;
        }
        OpsCommandSupport ops = loaded.get();
        if (threshold < 0) {
            return ops.fail(OpsCommandSupport.BAD_USAGE, "--threshold=" + threshold + ": must be 0 or more");
        }
        LagReport report;
        try (Admin admin = ops.admin()) {
            report = group == null ? LagReport.read(admin) : LagReport.read(admin, group);
        } catch (ConfigException e) {
            return ops.badSetting(e);
        } catch (ExecutionException e) {
            return ops.kafkaFailed(e);
        } catch (InterruptedException e) {
            return ops.interrupted();
        }
        if (group != null && report.groups().isEmpty()) {
            return ops.fail(OpsCommandSupport.BAD_USAGE, "--group " + group + ": no committed offsets for this "
                    + "consumer group in " + ops.bootstrap() + " (unknown group, or its consumers have not committed "
                    + "yet)");
        }
        print(report, out);
        Map<String, Long> over = report.totalsByGroup().entrySet().stream().filter(e -> e.getValue() > threshold)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a,
                        java.util.LinkedHashMap::new));
        if (!over.isEmpty()) {
            return ops.fail(OpsCommandSupport.OVER_THRESHOLD, "lag above the threshold of " + threshold + ": "
                    + over.entrySet().stream().map(e -> "group " + e.getKey() + " " + e.getValue())
                            .collect(Collectors.joining(", ")));
        }
        return OpsCommandSupport.OK;
    }

    private void print(LagReport report, PrintWriter out) {
        if (report.groups().isEmpty()) {
            out.println("No consumer group has committed offsets.");
            out.flush();
            return;
        }
        out.printf(ROW, "GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG");
        for (ConsumerLag lag : report.groups()) {
            for (LagReport.TopicLag topic : report.topics()) {
                if (!topic.group().equals(lag.group())) {
                    continue;
                }
                out.printf(ROW, lag.group(), topic.topic(), perPartition ? "all" : "", "", "", topic.lag());
                if (perPartition) {
                    List<ConsumerLag.PartitionLag> partitions = lag.partitions().stream()
                            .filter(p -> p.partition().topic().equals(topic.topic())).toList();
                    for (ConsumerLag.PartitionLag p : partitions) {
                        out.printf(ROW, lag.group(), topic.topic(), p.partition().partition(),
                                p.committed() < 0 ? "-" : p.committed(), p.end(), p.lag());
                    }
                }
            }
            out.printf(ROW, lag.group(), "(total of the group)", "", "", "", lag.total());
        }
        out.printf(ROW, "(total)", "", "", "", "", report.total());
        out.flush();
    }
}
