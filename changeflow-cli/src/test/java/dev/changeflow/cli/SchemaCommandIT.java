package dev.changeflow.cli;

import static dev.changeflow.cli.Run.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.changeflow.capture.schema.TableShapes;
import dev.changeflow.capture.schema.TableShapes.CatalogTable;
import dev.changeflow.db.SchemaMigrations;
import dev.changeflow.stack.PostgresServer;
import dev.changeflow.stack.SharedServers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code changeflow schema check} as an application team's CI runs it, in this JVM, against a real Postgres: one
 * database migrated with the real migrations serves the whole class, since every check rolls its migration back, which
 * {@link #check} verifies after each run (same columns, types, replica identity and OID of every captured table).
 */
class SchemaCommandIT {
    private static final List<String> CAPTURED = List.of("app.tasks", "app.projects");

    @TempDir
    static Path dir;

    private static PostgresServer postgres;
    private static String database;
    private static Map<String, String> settings;
    private static Path config;
    private static Map<String, CatalogTable> tablesBefore;
    private static Map<String, Long> oidsBefore;

    @BeforeAll
    static void database() throws Exception {
        postgres = SharedServers.postgres();
        database = postgres.createDatabase("schemacheck");
        SchemaMigrations.apply(postgres.dataSource(database));
        settings = new HashMap<>();
        settings.put("CHANGEFLOW_POSTGRES_URL", postgres.jdbcUrl(database) + "?user=" + postgres.user());
        if (postgres.password() != null) {
            settings.put("CHANGEFLOW_POSTGRES_PASSWORD", postgres.password());
        }
        config = config(settings);
        tablesBefore = tables();
        oidsBefore = oids();
    }

    private static Path config(Map<String, String> values) throws Exception {
        Path file = dir.resolve("changeflow-" + System.nanoTime() + ".properties");
        Files.writeString(file, values.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining("\n")));
        return file;
    }

    private static Map<String, CatalogTable> tables() throws Exception {
        Map<String, CatalogTable> tables = new HashMap<>();
        try (Connection c = postgres.connect(database)) {
            for (String table : CAPTURED) {
                tables.put(table, TableShapes.read(c, table).orElseThrow());
            }
        }
        return tables;
    }

    private static Map<String, Long> oids() throws Exception {
        Map<String, Long> oids = new HashMap<>();
        try (Connection c = postgres.connect(database);
                PreparedStatement s = c.prepareStatement("SELECT to_regclass(?)::oid")) {
            for (String table : CAPTURED) {
                s.setString(1, table);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    oids.put(table, rs.getLong(1));
                }
            }
        }
        return oids;
    }

    /** Writes {@code sql} to {@code fileName}, checks it with {@code options}, and verifies nothing was kept. */
    private static Run check(String fileName, String sql, String... options) throws Exception {
        Path file = dir.resolve(fileName);
        Files.writeString(file, sql);
        String[] args = new String[options.length + 2];
        args[0] = "check";
        args[1] = file.toString();
        System.arraycopy(options, 0, args, 2, options.length);
        boolean configGiven = List.of(options).contains("--config");
        Run run = configGiven ? run(new SchemaCommand(), args)
                : run(new SchemaCommand(), append(args, "--config", config.toString()));
        assertThat(tables()).as("the captured tables after the check of " + fileName).isEqualTo(tablesBefore);
        assertThat(oids()).as("the tables' OIDs after the check of " + fileName).isEqualTo(oidsBefore);
        return run;
    }

    private static String[] append(String[] args, String... more) {
        String[] all = new String[args.length + more.length];
        System.arraycopy(args, 0, all, 0, args.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return all;
    }

    private static String file(String fileName) {
        return dir.resolve(fileName).toString();
    }

    private static String where() {
        return postgres.host() + ":" + postgres.port() + "/" + database;
    }

    private static void assertCannotCheck(Run run, String reason) {
        assertThat(run.status()).as(run.err()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err().lines()).singleElement().asString()
                .startsWith("changeflow schema check: ").contains(reason);
    }

    @Test
    void aNullableColumnAddedIsSafe() throws Exception {
        Run run = check("V100__add_estimate.sql", "ALTER TABLE app.tasks ADD COLUMN estimate integer;\n");

        assertThat(run.status()).as(run.err()).isEqualTo(0);
        assertThat(run.err()).isEmpty();
        assertThat(run.out().lines()).containsExactly(
                "ok app.tasks: column estimate (int4) added",
                "safe: " + file("V100__add_estimate.sql") + ": 1 finding, none breaking (applied to " + where()
                        + " in a transaction rolled back)");
    }

    @Test
    void aRenamedColumnBreaksBackwardCompatibilityAndRemovesItsSearchField() throws Exception {
        Run run = check("V101__rename_title.sql", "ALTER TABLE app.tasks RENAME COLUMN title TO name;");

        assertThat(run.status()).as(run.err()).isEqualTo(1);
        assertThat(run.out().lines()).containsExactly(
                "BREAKING app.tasks: column title renamed to name (breaks BACKWARD: readers of the new shape find no "
                        + "name in older events)",
                "BREAKING app.tasks: search field title removed (column renamed to name)",
                "BREAKING: " + file("V101__rename_title.sql") + ": 2 of 2 findings break consumers of the captured "
                        + "tables (applied to " + where() + " in a transaction rolled back)");
        assertThat(tables().get("app.tasks").shape().column("title")).as("title is still there").isPresent();
    }

    @Test
    void theJsonOutputListsTheSameFindings() throws Exception {
        Run run = check("V102__rename_title.sql", "ALTER TABLE app.tasks RENAME COLUMN title TO name;", "--json");

        assertThat(run.status()).as(run.err()).isEqualTo(1);
        JsonNode report = JsonMapper.builder().build().readTree(run.out());
        assertThat(report.get("migration").asText()).isEqualTo(file("V102__rename_title.sql"));
        assertThat(report.get("safe").asBoolean()).isFalse();
        JsonNode findings = report.get("findings");
        assertThat(findings).hasSize(2);
        JsonNode renamed = findings.get(0);
        assertThat(renamed.get("table").asText()).isEqualTo("app.tasks");
        assertThat(renamed.get("kind").asText()).isEqualTo("column_renamed");
        assertThat(renamed.get("column").asText()).isEqualTo("name");
        assertThat(renamed.get("breaking").asBoolean()).isTrue();
        assertThat(renamed.get("message").asText()).isEqualTo("column title renamed to name (breaks BACKWARD: "
                + "readers of the new shape find no name in older events)");
        JsonNode search = findings.get(1);
        assertThat(search.get("kind").asText()).isEqualTo("search_field");
        assertThat(search.get("column").asText()).isEqualTo("title");
        assertThat(search.get("breaking").asBoolean()).isTrue();
    }

    @Test
    void aDroppedColumnBreaksTheCacheRuleAndTheSearchFieldThatUseIt() throws Exception {
        // The invalidator's default rules (default-rules.yaml) key project:{project_id}:tasks on it.
        Run run = check("V103__drop_project_id.sql", "ALTER TABLE app.tasks DROP COLUMN project_id;");

        assertThat(run.status()).as(run.err()).isEqualTo(1);
        assertThat(run.out().lines()).containsExactly(
                "ok app.tasks: column project_id (uuid) dropped (BACKWARD allows it; it would break FORWARD: "
                        + "readers of the old shape find no project_id in newer events)",
                "BREAKING app.tasks: cache rule project:{project_id}:tasks uses column project_id, dropped (the "
                        + "rule yields no key from then on)",
                "BREAKING app.tasks: search field project_id removed",
                "BREAKING: " + file("V103__drop_project_id.sql") + ": 2 of 3 findings break consumers of the "
                        + "captured tables (applied to " + where() + " in a transaction rolled back)");
    }

    @Test
    void aTypeChangeFromSmallintToTextBreaksBackwardCompatibility() throws Exception {
        // The CHECK constraint compares priority with integers, so it goes first (else the retype fails, see below).
        Run run = check("V104__priority_text.sql", """
                -- priorities become labels
                ALTER TABLE app.tasks DROP CONSTRAINT tasks_priority_check;

                ALTER TABLE app.tasks
                    ALTER COLUMN priority TYPE text;
                """);

        assertThat(run.status()).as(run.err()).isEqualTo(1);
        assertThat(run.out().lines()).containsExactly(
                "BREAKING app.tasks: column priority retyped int2 -> text (breaks BACKWARD: readers of the new shape "
                        + "expect text in priority, older events hold int2)",
                "BREAKING: " + file("V104__priority_text.sql") + ": 1 of 1 finding breaks consumers of the captured "
                        + "tables (applied to " + where() + " in a transaction rolled back)");
    }

    @Test
    void droppingReplicaIdentityFullIsBreaking() throws Exception {
        Run run = check("V105__identity_default.sql", "ALTER TABLE app.tasks REPLICA IDENTITY DEFAULT;");

        assertThat(run.status()).as(run.err()).isEqualTo(1);
        assertThat(run.out().lines().toList()).hasSize(2).first().asString().startsWith(
                "BREAKING app.tasks: REPLICA IDENTITY FULL dropped (now DEFAULT); updates lose their before-image");
    }

    @Test
    void aTableDroppedAndCreatedAgainLosesReplicaIdentityFullAndLeavesThePublication() throws Exception {
        Run run = check("V106__rebuild_tasks.sql", """
                CREATE TABLE app.tasks_new (LIKE app.tasks INCLUDING ALL);
                DROP TABLE app.tasks;
                ALTER TABLE app.tasks_new RENAME TO tasks;
                """, "--json");

        assertThat(run.status()).as(run.err()).isEqualTo(1);
        JsonNode findings = JsonMapper.builder().build().readTree(run.out()).get("findings");
        assertThat(findings).extracting(f -> f.get("kind").asText())
                .containsExactly("table_recreated", "replica_identity");
        assertThat(findings.get(0).get("message").asText()).startsWith("table dropped and created again (OID "
                + oidsBefore.get("app.tasks") + " -> ").contains("not in capture's publication");
        assertThat(findings.get(1).get("message").asText()).startsWith("REPLICA IDENTITY FULL dropped (now "
                + "DEFAULT): the table was created again, with the default identity");
        assertThat(findings).allSatisfy(f -> assertThat(f.get("breaking").asBoolean()).isTrue());
    }

    @Test
    void eachTableIsJudgedUnderItsOwnCompatibilityMode() throws Exception {
        Map<String, String> full = new HashMap<>(settings);
        full.put("CHANGEFLOW_CAPTURE_SCHEMA_COMPATIBILITY", "BACKWARD,projects=FULL");
        Run run = check("V107__optional_names.sql", """
                ALTER TABLE app.tasks ALTER COLUMN title DROP NOT NULL;
                ALTER TABLE app.projects ALTER COLUMN name DROP NOT NULL;
                """, "--config", config(full).toString());

        assertThat(run.status()).as(run.err()).isEqualTo(1);
        assertThat(run.out().lines().toList()).startsWith(
                "ok app.tasks: column title made nullable (NOT NULL dropped) (BACKWARD allows it; it would break "
                        + "FORWARD: readers of the old shape expect no null in title, newer events may hold one)",
                "BREAKING app.projects: column name made nullable (NOT NULL dropped) (breaks FULL: readers of the old "
                        + "shape expect no null in name, newer events may hold one)");
    }

    @Test
    void onAScratchDatabaseTheCheckIsTheSameAndTheDatabaseIsDroppedAfterwards() throws Exception {
        Run run = check("V108__add_estimate.sql", "ALTER TABLE app.tasks ADD COLUMN estimate integer;", "--scratch");

        assertThat(run.status()).as(run.err()).isEqualTo(0);
        assertThat(run.out().lines().findFirst()).contains("ok app.tasks: column estimate (int4) added");
        Matcher scratch = Pattern.compile("applied to scratch database (changeflow_check_[0-9a-f]+) on "
                + Pattern.quote(postgres.host() + ":" + postgres.port()) + " in a transaction rolled back, and that "
                + "database dropped\\)").matcher(run.out());
        assertThat(scratch.find()).as(run.out()).isTrue();
        try (Connection c = postgres.connect(database);
                PreparedStatement s = c.prepareStatement("SELECT count(*) FROM pg_database WHERE datname = ?")) {
            s.setString(1, scratch.group(1));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                assertThat(rs.getInt(1)).as("databases named " + scratch.group(1)).isZero();
            }
        }
    }

    @Test
    void onAScratchDatabaseAMigrationThisChangeflowBundlesIsTriedOnTheMigrationsBelowIt() throws Exception {
        // V3 is bundled (the backfills table): the scratch database gets V1 and V2 only, then this V3 is tried.
        Run run = check("V3__changeflow_backfills.sql", "CREATE TABLE app.changeflow_backfills_probe (id int);\n"
                + "ALTER TABLE app.tasks ADD COLUMN estimate integer;", "--scratch");

        assertThat(run.status()).as(run.err() + run.out()).isEqualTo(0);
        assertThat(run.out()).contains("ok app.tasks: column estimate (int4) added");
    }

    @Test
    void aMigrationThatFailsToApplyExitsWith2NamingTheLineAndWhatPostgresSaid() throws Exception {
        Run run = check("V109__priority_text.sql", "ALTER TABLE app.tasks ADD COLUMN estimate integer;\n\n"
                + "ALTER TABLE app.tasks ALTER COLUMN priority TYPE text;\n");

        assertCannotCheck(run, "the migration fails at line 3 (ALTER TABLE app.tasks ALTER COLUMN priority TYPE "
                + "text): operator does not exist: text >= integer");
        assertThat(run.err()).contains("(SQLState 42883); nothing was changed");
    }

    @Test
    void aStatementThatCannotRunInATransactionExitsWith2() throws Exception {
        Run run = check("V110__index.sql", "CREATE INDEX CONCURRENTLY t_idx ON app.tasks (title);");

        assertCannotCheck(run, "line 1 (CREATE INDEX CONCURRENTLY t_idx ON app.tasks (title)) cannot run "
                + "inside a transaction (CREATE INDEX CONCURRENTLY cannot run inside a transaction block)");
    }

    @Test
    void aMigrationThatWouldCommitIsRefusedBeforeItRuns() throws Exception {
        Run run = check("V111__commit.sql", """
                ALTER TABLE app.tasks ADD COLUMN note text; -- a comment; not a statement
                INSERT INTO app.organizations (name) VALUES ('semicolons; in ''quotes''');
                COMMIT;
                """);

        assertCannotCheck(run, "line 3 (COMMIT) starts or ends a transaction");
        try (Connection c = postgres.connect(database); var s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM app.organizations")) {
            rs.next();
            assertThat(rs.getInt(1)).isZero();
        }
    }

    @Test
    void badUsageExitsWith2OnOneLine() throws Exception {
        assertCannotCheck(run(new SchemaCommand(), "check", dir.resolve("V112__missing.sql").toString(),
                "--config", config.toString()), "V112__missing.sql: no such file");
        assertCannotCheck(check("V113__x.sql", "SELECT 1;", "--lock-timeout", "soon"),
                "--lock-timeout 'soon' is not allowed");
        assertCannotCheck(check("V2__already_applied.sql", "SELECT 1;"),
                "version 2 is already applied to the database checked (app.flyway_schema_history)");
        Map<String, String> badMode = new HashMap<>(settings);
        badMode.put("CHANGEFLOW_CAPTURE_SCHEMA_COMPATIBILITY", "SIDEWAYS");
        assertCannotCheck(check("V114__x.sql", "SELECT 1;", "--config", config(badMode).toString()),
                "CHANGEFLOW_CAPTURE_SCHEMA_COMPATIBILITY");
    }
}
