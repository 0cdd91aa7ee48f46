package dev.changeflow.cli.internal.ops;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.router.topics.KafkaReachability;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;

/**
 * The settings, clients, output and exit codes of one operator command. Commands read their settings like the
 * services do (environment, system properties, {@code --config FILE}), print results to {@link #out()} and problems
 * to {@link #err()} as one line each, and return one of the exit codes below. The writers are picocli's
 * ({@code spec.commandLine().getOut()/getErr()}), so tests can capture them.
 */
public final class OpsCommandSupport {
    /** The operation did what was asked (a dry run counts). */
    public static final int OK = 0;
    /** A server failed or answered with an error; the line on stderr says which. */
    public static final int FAILED = 1;
    /** A bad setting or option; the line on stderr names it and what is allowed. */
    public static final int BAD_USAGE = 2;
    /** The operation was refused because doing it now could lose or repeat data (the line says why and how). */
    public static final int REFUSED = 3;
    /** {@code lag}: some group is behind by more than the threshold. */
    public static final int OVER_THRESHOLD = 4;

    /** How long a command waits for Kafka to answer before it fails. */
    public static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(15);

    private final String command;
    private final Settings settings;
    private final PrintWriter out;
    private final PrintWriter err;

    public OpsCommandSupport(String command, Settings settings, PrintWriter out, PrintWriter err) {
        this.command = command;
        this.settings = settings;
        this.out = out;
        this.err = err;
    }

    public Settings settings() {
        return settings;
    }

    public PrintWriter out() {
        return out;
    }

    public PrintWriter err() {
        return err;
    }

    /** The Kafka bootstrap servers. @throws ConfigException if unset */
    public String bootstrap() {
        return settings.get(ConnectionSettings.KAFKA_BOOTSTRAP).trim();
    }

    /** Client properties for any Kafka client of this command: the bootstrap servers. */
    public Map<String, Object> kafkaClientProperties() {
        return Map.of("bootstrap.servers", bootstrap());
    }

    /**
     * An admin client that has already reached Kafka; close it.
     *
     * @throws ConfigException naming {@code CHANGEFLOW_KAFKA_BOOTSTRAP} if Kafka does not answer
     */
    public Admin admin() {
        Admin admin = Admin.create(KafkaReachability.adminConfig(kafkaClientProperties(), KAFKA_TIMEOUT));
        try {
            KafkaReachability.check(admin, bootstrap(), KAFKA_TIMEOUT);
            return admin;
        } catch (RuntimeException e) {
            admin.close();
            throw e;
        }
    }

    /** Prints {@code changeflow <command>: <message>} on stderr and returns {@code status}. */
    public int fail(int status, String message) {
        err.println("changeflow " + command + ": " + (message == null ? "(no message)"
                : message.replaceAll("\\s*\\R\\s*", " ")));
        err.flush();
        return status;
    }

    /** Reports what Kafka answered with (the cause of {@code e}), returning {@link #FAILED}. */
    public int kafkaFailed(java.util.concurrent.ExecutionException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        return fail(FAILED, "Kafka " + bootstrap() + ": " + cause.getMessage());
    }

    /** Restores the interrupt flag and reports it, returning {@link #FAILED}. */
    public int interrupted() {
        Thread.currentThread().interrupt();
        return fail(FAILED, "interrupted");
    }

    /** Reports a bad or missing setting, returning {@link #BAD_USAGE}. */
    public int badSetting(ConfigException e) {
        return fail(BAD_USAGE, e.getMessage());
    }
}
