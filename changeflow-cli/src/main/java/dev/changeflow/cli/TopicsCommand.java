package dev.changeflow.cli;

import dev.changeflow.capture.CaptureTopics;
import dev.changeflow.cli.internal.ops.OpsCommandSupport;
import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Mode;
import dev.changeflow.router.topics.TopicProvisioner;
import dev.changeflow.router.topics.TopicProvisioner.TopicSpec;
import dev.changeflow.router.topics.TopicProvisioner.TopicState;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code changeflow topics create|describe}: Changeflow's topics (one change topic per captured table, its dead-letter
 * topic, capture's offsets topic) shaped as the design documents require, from the same settings capture uses.
 * Exit codes: 0 done, 1 Kafka failed, 2 bad setting. {@code describe} marks a topic that is missing or differs from the
 * design with {@code DIFFERS} and what differs.
 */
@Command(name = "topics", mixinStandardHelpOptions = true,
        description = "Create or describe Changeflow's topics with the partitions, replication and configs of the "
                + "design (48/12 partitions, RF 3, min ISR 2, 7 days, lz4, segment 1 h, no auto-creation).",
        subcommands = {TopicsCommand.Create.class, TopicsCommand.Describe.class})
public final class TopicsCommand {

    static class Common {
        @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Properties file with settings.")
        Path config;

        @Spec
        CommandSpec spec;

        int run(String name, Operation operation) {
            java.util.Optional<OpsCommandSupport> loaded = CliSettings.opsSupport("topics " + name, config, spec);
            if (loaded.isEmpty()) {
                return OpsCommandSupport.BAD_USAGE;
            }
            OpsCommandSupport ops = loaded.get();
            try (Admin admin = ops.admin()) {
                return operation.run(ops, admin, CaptureTopics.specsWithDeadLetters(ops.settings()));
            } catch (ConfigException e) {
                return ops.badSetting(e);
            } catch (InterruptedException e) {
                return ops.interrupted();
            } catch (ExecutionException e) {
                return ops.kafkaFailed(e);
            } catch (IllegalStateException e) {
                return ops.fail(OpsCommandSupport.FAILED, e.getMessage());
            }
        }
    }

    interface Operation {
        int run(OpsCommandSupport ops, Admin admin, List<TopicSpec> specs)
                throws InterruptedException, ExecutionException;
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Creates the missing topics; existing ones are kept and reported if weaker than designed.")
    static final class Create extends Common implements Callable<Integer> {
        @Override
        public Integer call() {
            return run("create", (ops, admin, specs) -> {
                TopicProvisioner provisioner = new TopicProvisioner(admin, Mode.DEV);
                List<String> before = provisioner.inspect(specs).stream().filter(TopicState::exists)
                        .map(s -> s.spec().name()).toList();
                List<String> problems = provisioner.provision(specs);
                PrintWriter out = ops.out();
                for (TopicSpec spec : specs) {
                    out.printf("%-44s %s%n", spec.name(), before.contains(spec.name()) ? "exists" : "created ("
                            + spec.partitions() + " partitions, replication factor " + spec.replicationFactor() + ")");
                }
                out.flush();
                problems.forEach(p -> ops.err().println("WARNING: " + p));
                ops.err().flush();
                return OpsCommandSupport.OK;
            });
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true,
            description = "Shows each topic's partitions, replication factor and configs next to the design's.")
    static final class Describe extends Common implements Callable<Integer> {
        @Override
        public Integer call() {
            return run("describe", (ops, admin, specs) -> {
                List<TopicState> states = new TopicProvisioner(admin, Mode.DEV).inspect(specs);
                PrintWriter out = ops.out();
                for (TopicState state : states) {
                    TopicSpec spec = state.spec();
                    out.println(spec.name() + (state.differences().isEmpty() ? "  (as designed)"
                            : "  DIFFERS: " + String.join("; ", state.differences())));
                    if (state.exists()) {
                        out.printf("  partitions %d (designed %d), replication factor %d (designed %d)%n",
                                state.partitions(), spec.partitions(), state.replicationFactor(),
                                spec.replicationFactor());
                        state.configs().forEach((key, value) -> out.printf("  %-24s %s%s%n", key, value,
                                spec.configs().containsKey(key) && !spec.configs().get(key).equals(value)
                                        ? "   (designed " + spec.configs().get(key) + ")" : ""));
                    }
                }
                out.flush();
                return OpsCommandSupport.OK;
            });
        }
    }
}
