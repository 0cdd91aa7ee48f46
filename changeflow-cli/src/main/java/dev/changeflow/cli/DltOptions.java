package dev.changeflow.cli;

import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.cli.internal.ops.OpsCommandSupport;
import dev.changeflow.config.ConfigException;
import dev.changeflow.router.ops.DeadLetters;
import dev.changeflow.router.ops.DeadLetters.Filter;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** What {@code dlt list} and {@code dlt replay} share: settings, the record filter, and how failures end a command. */
abstract class DltOptions implements java.util.concurrent.Callable<Integer> {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Properties file with settings.")
    Path config;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    FilterOptions filterOptions;

    @Spec
    CommandSpec spec;

    /** At most one of {@code --key} and {@code --since}. */
    static final class FilterOptions {
        @Option(names = "--key", paramLabel = "KEY", description = "Only records with this Kafka key.")
        String key;

        @Option(names = "--since", paramLabel = "TIME", converter = SinceConverter.class,
                description = "Only records that failed at or after TIME: " + SinceConverter.FORMS + ".")
        Instant since;
    }

    /** {@code --since}: an ISO-8601 instant, or a local date-time with its offset. */
    static final class SinceConverter implements ITypeConverter<Instant> {
        static final String FORMS = "an ISO-8601 instant such as 2026-11-21T09:00:00Z, or a local date-time with "
                + "offset such as 2026-11-21T10:00:00+01:00";

        @Override
        public Instant convert(String value) {
            try {
                return Instant.parse(value.trim());
            } catch (DateTimeParseException e) {
                // Not an instant; perhaps a date-time with an offset.
            }
            try {
                return OffsetDateTime.parse(value.trim()).toInstant();
            } catch (DateTimeParseException e) {
                throw new TypeConversionException("'" + value + "' is not a time; use " + FORMS);
            }
        }
    }

    /** The filter the options select; {@link Filter#all()} without {@code --key} or {@code --since}. */
    Filter filter() {
        if (filterOptions == null) {
            return Filter.all();
        }
        return filterOptions.key != null ? Filter.key(filterOptions.key) : Filter.since(filterOptions.since);
    }

    boolean filtered() {
        return filterOptions != null;
    }

    /** {@code dlt list} or {@code dlt replay}. */
    abstract String name();

    /** Does the work once settings are read and Kafka answered. */
    abstract int run(OpsCommandSupport support, DeadLetters deadLetters);

    /** Reads settings, checks Kafka, runs, and turns failures into one line on stderr and an exit code. */
    @Override
    public final Integer call() {
        return execute();
    }

    final int execute() {
        java.util.Optional<OpsCommandSupport> loaded = CliSettings.opsSupport(name(), config, spec);
        if (loaded.isEmpty()) {
            return OpsCommandSupport.BAD_USAGE;
        }
        OpsCommandSupport support = loaded.get();
        try {
            // Fails fast, naming CHANGEFLOW_KAFKA_BOOTSTRAP, when no broker answers.
            support.admin().close();
            DeadLetters deadLetters = DeadLetters.create(support.kafkaClientProperties(),
                    support.settings().get(CaptureSettings.REPLICATION_FACTOR));
            int status = run(support, deadLetters);
            support.out().flush();
            return status;
        } catch (ConfigException e) {
            return support.badSetting(e);
        } catch (IllegalArgumentException e) {
            return support.fail(OpsCommandSupport.BAD_USAGE, e.getMessage());
        } catch (DeadLetters.ReplayTakenOverException e) {
            return support.fail(OpsCommandSupport.REFUSED, e.getMessage());
        } catch (RuntimeException e) {
            return support.fail(OpsCommandSupport.FAILED, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }
}
