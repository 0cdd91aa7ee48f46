package dev.changeflow.cli;

import dev.changeflow.cli.internal.ops.OpsCommandSupport;
import dev.changeflow.router.ops.DeadLetters;
import dev.changeflow.router.ops.DeadLetters.ReplayResult;
import dev.changeflow.router.ops.DeadLetters.TopicSummary;
import java.io.PrintWriter;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code changeflow dlt replay --topic X.dlt [--key K | --since T]}: republishes the matching dead letters not
 * replayed before to their original topics, showing progress on stderr, then prints
 * {@code replayed N, already replayed M, matched K}. Running it again replays nothing more.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Republishes dead letters to their original topics; a record is never replayed twice.")
final class DltReplayCommand extends DltOptions {

    @Option(names = "--topic", paramLabel = "X.dlt", required = true, description = "The dead-letter topic.")
    String topic;

    @Override
    String name() {
        return "dlt replay";
    }

    @Override
    int run(OpsCommandSupport support, DeadLetters deadLetters) {
        PrintWriter out = support.out();
        Optional<TopicSummary> summary = deadLetters.list().stream().filter(t -> t.topic().equals(topic)).findFirst();
        if (summary.isPresent()) {
            out.println("Replaying " + filter() + " of " + topic + " (" + summary.get().records() + " records, "
                    + summary.get().replayed() + " replayed before, " + summary.get().pending() + " pending) to "
                    + "their original topics; records already replayed are skipped.");
            out.flush();
        }
        ReplayResult result = deadLetters.replay(topic, filter());
        out.println("replayed " + result.replayed() + ", already replayed " + result.alreadyReplayed() + ", matched "
                + result.matched());
        if (result.refused() > 0) {
            support.err().println("changeflow dlt replay: " + result.refused() + " matching record(s) have no "
                    + "dlt-original-topic header and were not replayed");
            support.err().flush();
        }
        return OpsCommandSupport.OK;
    }
}
