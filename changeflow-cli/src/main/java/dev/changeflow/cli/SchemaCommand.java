package dev.changeflow.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.changeflow.cli.internal.ops.OpsCommandSupport;
import dev.changeflow.cli.internal.schema.MigrationCheck;
import dev.changeflow.cli.internal.schema.MigrationCheck.CannotCheckException;
import dev.changeflow.cli.internal.schema.MigrationCheck.Timeouts;
import dev.changeflow.cli.internal.schema.MigrationScript;
import dev.changeflow.cli.internal.schema.SchemaFinding;
import dev.changeflow.config.ConfigException;
import dev.changeflow.db.PostgresEndpoint;
import dev.changeflow.db.SchemaMigrations;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.flywaydb.core.api.FlywayException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code changeflow schema check MIGRATION [--json] [--scratch]}: for the application team's CI, applies a Flyway SQL
 * migration inside a transaction that is rolled back and reports what it does to the captured tables (see
 * {@link MigrationCheck}): each shape difference judged under the table's compatibility mode, the cache rules and
 * search fields it breaks, and REPLICA IDENTITY FULL dropped or lost with a re-created table. Checks on the database
 * of {@code CHANGEFLOW_POSTGRES_URL}, or with {@code --scratch} on a database created on that server for the check,
 * migrated with the migrations bundled with this changeflow and dropped afterwards.
 *
 * <p>Prints one line per finding ({@code BREAKING app.tasks: ...} or {@code ok app.tasks: ...}) and a summary line;
 * with {@code --json}, one JSON object instead. Exit codes: 0 safe (no breaking finding), 1 breaking (at least one),
 * 2 the check could not be made: a bad setting or option, a file that cannot be read, Postgres unreachable, or a
 * migration that fails, times out, cannot run in a transaction or would commit (one line on stderr,
 * {@code changeflow schema check: <why>}). Nothing the migration does is kept, whatever the outcome.
 */
@Command(name = "schema", mixinStandardHelpOptions = true,
        description = "Check a migration against the consumers of the captured tables before it ships.",
        subcommands = {SchemaCommand.Check.class})
public final class SchemaCommand {
    /** No finding breaks anything. */
    static final int SAFE = OpsCommandSupport.OK;
    /** At least one finding breaks a consumer (or capture). */
    static final int BREAKING = 1;
    /** The check could not be made: a bad setting or option, Postgres unreachable, a migration that fails... */
    static final int CANNOT_CHECK = OpsCommandSupport.BAD_USAGE;
    /** Prefix of the scratch databases {@code --scratch} creates (and drops). */
    static final String SCRATCH_PREFIX = "changeflow_check_";
    /** What {@code --lock-timeout} and {@code --statement-timeout} accept (Postgres units, as Postgres reads them). */
    private static final String DURATION = "[0-9]{1,9}(ms|s|min|h)?";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = {"Applies a Flyway SQL migration inside a transaction that is rolled back and reports, "
                    + "per captured table, each change and whether it breaks: the table's compatibility mode "
                    + "(CHANGEFLOW_CAPTURE_SCHEMA_COMPATIBILITY), a cache rule, a search field, REPLICA IDENTITY FULL.",
                    "Exit codes: 0 safe, 1 breaking, 2 the check could not be made (the line on stderr says why)."})
    static final class Check implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MIGRATION",
                description = "The Flyway SQL migration, such as db/migrations/V7__add_estimate.sql.")
        Path migration;

        @Option(names = "--json", description = "Print one JSON object: migration, safe, findings.")
        boolean json;

        @Option(names = "--scratch", description = "Check on a scratch database created on the server of "
                + "CHANGEFLOW_POSTGRES_URL (needs CREATEDB), migrated with the bundled migrations, dropped afterwards.")
        boolean scratch;

        @Option(names = "--lock-timeout", paramLabel = "DURATION", defaultValue = "5s",
                description = "How long a statement may wait for a lock before the check gives up, such as 500ms or "
                        + "5s (default: ${DEFAULT-VALUE}). While it waits, queries on that table wait behind it.")
        String lockTimeout;

        @Option(names = "--statement-timeout", paramLabel = "DURATION", defaultValue = "60s",
                description = "How long a statement may run before the check gives up (default: ${DEFAULT-VALUE}). "
                        + "A table rewrite holds its lock that long.")
        String statementTimeout;

        @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Properties file with settings.")
        Path config;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Optional<OpsCommandSupport> loaded = CliSettings.opsSupport("schema check", config, spec);
            if (loaded.isEmpty()) {
                return CANNOT_CHECK;
            }
            OpsCommandSupport ops = loaded.get();
            try {
                return check(ops);
            } catch (RuntimeException e) {
                // picocli would exit with 1, which here means "breaking"; a check that could not be made is 2.
                return ops.fail(CANNOT_CHECK, "the check failed: " + e);
            }
        }

        private int check(OpsCommandSupport ops) {
            for (String[] option : new String[][] {{"--lock-timeout", lockTimeout},
                    {"--statement-timeout", statementTimeout}}) {
                if (!option[1].matches(DURATION)) {
                    return ops.fail(CANNOT_CHECK, option[0] + " '" + option[1] + "' is not allowed: "
                            + "a duration such as 500ms, 5s or 2min");
                }
            }
            MigrationScript script;
            try {
                script = MigrationScript.parse(migration.getFileName().toString(), Files.readString(migration));
            } catch (NoSuchFileException e) {
                return ops.fail(CANNOT_CHECK, migration + ": no such file");
            } catch (CharacterCodingException e) {
                return ops.fail(CANNOT_CHECK, migration + " is not UTF-8 text");
            } catch (IOException e) {
                return ops.fail(CANNOT_CHECK, migration + " cannot be read: " + e.getMessage());
            }
            try {
                MigrationCheck.requireCheckable(script);
            } catch (CannotCheckException e) {
                return ops.fail(CANNOT_CHECK, migration + ": " + e.getMessage() + "; nothing was run");
            }
            MigrationCheck check;
            PostgresEndpoint endpoint;
            try {
                check = MigrationCheck.from(ops.settings(), new Timeouts(lockTimeout, statementTimeout));
                endpoint = PostgresEndpoint.from(ops.settings());
            } catch (ConfigException e) {
                return ops.badSetting(e);
            }
            return scratch ? onScratch(ops, check, script, endpoint)
                    : checkOn(ops, check, script, endpoint, endpoint.host() + ":" + endpoint.port() + "/"
                            + endpoint.database());
        }

        /** Creates a scratch database, migrates it, checks on it and drops it, whatever the outcome. */
        private int onScratch(OpsCommandSupport ops, MigrationCheck check, MigrationScript script,
                PostgresEndpoint server) {
            String name = SCRATCH_PREFIX + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
            String at = server.host() + ":" + server.port();
            try (Connection c = server.connect(); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + name);
            } catch (SQLException e) {
                String state = e.getSQLState() == null ? "" : e.getSQLState();
                boolean connecting = state.startsWith("08") || state.startsWith("28") || state.equals("3D000");
                return ops.fail(CANNOT_CHECK, "--scratch cannot create a database on " + at + ": "
                        + (connecting ? server.describe(e) : e.getMessage()) + (state.equals("42501")
                        ? " (the user of CHANGEFLOW_POSTGRES_URL needs the CREATEDB privilege)" : ""));
            }
            try {
                PostgresEndpoint scratchDatabase = server.withDatabase(name);
                // Flyway logs Postgres's notices as warnings (V1's "schema app already exists, skipping"), and the
                // process's log goes to standard output: keep it out of the report (and out of --json) meanwhile.
                PrintStream stdout = System.out;
                System.setOut(System.err);
                try {
                    // The database as it was before this migration: the bundled ones below its version (all of
                    // them for a file without one), so a migration the jar already bundles is tried, not refused.
                    if (script.version().isPresent()) {
                        SchemaMigrations.applyBelow(scratchDatabase, script.version().get());
                    } else {
                        SchemaMigrations.apply(scratchDatabase);
                    }
                } catch (FlywayException e) {
                    return ops.fail(CANNOT_CHECK, "the bundled migrations fail on the scratch "
                            + "database " + name + ": " + e.getMessage());
                } finally {
                    System.setOut(stdout);
                }
                return checkOn(ops, check, script, scratchDatabase, "scratch database " + name + " on " + at);
            } finally {
                drop(ops, server, name);
            }
        }

        private static void drop(OpsCommandSupport ops, PostgresEndpoint server, String name) {
            try (Connection c = server.connect(); Statement s = c.createStatement()) {
                // Flyway has closed its connections; FORCE (Postgres 13+) ends any a crashed client left behind.
                boolean force = c.getMetaData().getDatabaseMajorVersion() >= 13;
                s.execute("DROP DATABASE IF EXISTS " + name + (force ? " WITH (FORCE)" : ""));
            } catch (SQLException e) {
                ops.err().println("changeflow schema check: warning: the scratch database " + name + " could not "
                        + "be dropped (" + e.getMessage().replaceAll("\\s*\\R\\s*", " ") + "); drop it by hand");
                ops.err().flush();
            }
        }

        /** Checks on {@code endpoint}, prints the findings and returns the exit code. */
        private int checkOn(OpsCommandSupport ops, MigrationCheck check, MigrationScript script,
                PostgresEndpoint endpoint, String where) {
            Connection connection;
            try {
                connection = endpoint.connect();
            } catch (SQLException e) {
                return ops.fail(CANNOT_CHECK, endpoint.describe(e));
            }
            List<SchemaFinding> findings;
            try (connection) {
                findings = check.check(connection, script);
            } catch (CannotCheckException e) {
                return ops.fail(CANNOT_CHECK, migration + ": " + e.getMessage() + (scratch
                        && e.alreadyApplied() ? " (with --scratch, that is a database with the migrations bundled "
                        + "with this changeflow, and this one is among them)" : "")
                        + (e.rolledBack() ? "; nothing was changed" : ""));
            } catch (SQLException e) {
                return ops.fail(CANNOT_CHECK, "Postgres " + where + ": " + e.getMessage());
            }
            long breaking = findings.stream().filter(SchemaFinding::breaking).count();
            PrintWriter out = ops.out();
            if (json) {
                try {
                    out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json(findings)));
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
            } else {
                findings.forEach(f -> out.println(f.line()));
                out.println(summary(findings.size(), breaking, check.tables(), where));
            }
            out.flush();
            return breaking > 0 ? BREAKING : SAFE;
        }

        private String summary(int findings, long breaking, List<String> tables, String where) {
            String applied = " (applied to " + where + " in a transaction rolled back"
                    + (scratch ? ", and that database dropped)" : ")");
            if (breaking > 0) {
                return "BREAKING: " + migration + ": " + breaking + " of " + count(findings, "finding")
                        + (breaking == 1 ? " breaks" : " break") + " consumers of the captured tables" + applied;
            }
            return findings == 0 ? "safe: " + migration + " does not change the captured tables "
                    + String.join(", ", tables) + applied
                    : "safe: " + migration + ": " + count(findings, "finding") + ", none breaking" + applied;
        }

        private ObjectNode json(List<SchemaFinding> findings) {
            ObjectNode root = JSON.createObjectNode();
            root.put("migration", migration.toString());
            root.put("safe", findings.stream().noneMatch(SchemaFinding::breaking));
            ArrayNode list = root.putArray("findings");
            for (SchemaFinding f : findings) {
                list.addObject().put("table", f.table()).put("kind", f.kind().jsonName()).put("column", f.column())
                        .put("breaking", f.breaking()).put("message", f.message());
            }
            return root;
        }

        private static String count(long n, String noun) {
            return n + " " + noun + (n == 1 ? "" : "s");
        }
    }
}
