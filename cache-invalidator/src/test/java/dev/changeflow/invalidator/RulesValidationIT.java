package dev.changeflow.invalidator;

import dev.changeflow.router.subscription.ServiceLifecycle;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import dev.changeflow.db.SchemaMigrations;
import dev.changeflow.stack.PostgresServer;
import dev.changeflow.stack.SharedServers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rules are checked against the real columns of the migrated {@code app} schema when the service is created,
 * before it connects to Redis or Kafka: a rule that could never produce the right key stops startup with one line.
 */
class RulesValidationIT {
    private static final PostgresServer POSTGRES = SharedServers.postgres();
    private static String migrated;

    @TempDir
    Path dir;

    @BeforeAll
    static void migrateADatabase() throws Exception {
        migrated = POSTGRES.createDatabase("rules");
        SchemaMigrations.apply(POSTGRES.dataSource(migrated));
    }

    /** Settings for {@code database}; Kafka and Redis are never contacted by {@link InvalidatorService#create}. */
    private static Map<String, String> settings(String database) {
        Map<String, String> values = new HashMap<>();
        values.put("CHANGEFLOW_POSTGRES_URL", POSTGRES.jdbcUrl(database) + "?user=" + POSTGRES.user());
        if (POSTGRES.password() != null) {
            values.put("CHANGEFLOW_POSTGRES_PASSWORD", POSTGRES.password());
        }
        values.put("CHANGEFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:9");
        values.put("CHANGEFLOW_REDIS_URL", "redis://127.0.0.1:9");
        return values;
    }

    private Map<String, String> withRules(String yaml) throws Exception {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), yaml);
        Map<String, String> values = settings(migrated);
        values.put("CHANGEFLOW_INVALIDATOR_RULES_FILE", rules.toString());
        return values;
    }

    private static InvalidatorService create(Map<String, String> values) {
        return InvalidatorService.create(Settings.of(values), new SimpleMeterRegistry());
    }

    @Test
    void aTemplateNamingAnUnknownColumnFailsStartupWithOneLineNamingTheFileTableTemplateAndColumn() throws Exception {
        Map<String, String> values = withRules("""
                tables:
                  tasks:
                    - "task:{id}"
                    - "project:{projectid}:tasks"
                """);
        String file = values.get("CHANGEFLOW_INVALIDATOR_RULES_FILE");

        assertThatThrownBy(() -> create(values))
                .isInstanceOf(ConfigException.class)
                .hasMessage("CHANGEFLOW_INVALIDATOR_RULES_FILE=" + file + " (changeflow.invalidator.rules-file): "
                        + "rules " + file + ": table tasks, template \"project:{projectid}:tasks\": column projectid "
                        + "does not exist in app.tasks; its columns are id, project_id, title, description, status, "
                        + "priority, assignee, due_date, created_at, updated_at")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void aRuleForATableThatDoesNotExistFailsStartupListingTheTablesThereAre() throws Exception {
        Map<String, String> values = withRules("tables:\n  task: [\"task:{id}\"]\n");

        assertThatThrownBy(() -> create(values))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("table task does not exist in schema app; its tables are ")
                .hasMessageContaining("organizations, projects, tasks");
    }

    @Test
    void theDefaultRulesMatchTheMigratedSchemaAndChooseTheDefaultTopics() {
        InvalidatorService service = create(settings(migrated));

        assertThat(service.topics()).containsExactly("cdc.tasks-changes", "cdc.projects-changes");
        assertThat(service.group()).isEqualTo("cache-invalidator");
        assertThat(service.state()).isEqualTo(ServiceLifecycle.State.CREATED);
    }

    @Test
    void aDatabaseWithoutTheAppSchemaFailsStartupAskingWhetherItIsMigrated() throws Exception {
        String empty = POSTGRES.createDatabase("rules_empty");

        assertThatThrownBy(() -> create(settings(empty)))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("CHANGEFLOW_INVALIDATOR_RULES_FILE=<unset>")
                .hasMessageEndingWith("table tasks does not exist in schema app; its tables are none (is the schema "
                        + "migrated?) (and 1 more problem)");
    }

    @Test
    void topicsThatDoNotMatchTheRulesFailStartupNamingTheSetting() {
        Map<String, String> values = settings(migrated);
        values.put("CHANGEFLOW_INVALIDATOR_TOPICS", "cdc.tasks-changes");

        assertThatThrownBy(() -> create(values))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("CHANGEFLOW_INVALIDATOR_TOPICS=cdc.tasks-changes "
                        + "(changeflow.invalidator.topics): the rules for table projects would never run");
    }

    @Test
    void anUnreachablePostgresFailsStartupNamingTheSetting() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        Map<String, String> values = settings(migrated);
        values.put("CHANGEFLOW_POSTGRES_URL", "postgresql://app:hunter2@127.0.0.1:" + closed + "/app");

        assertThatThrownBy(() -> create(values))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("CHANGEFLOW_POSTGRES_URL=postgresql://app:****@127.0.0.1:" + closed
                        + "/app (changeflow.postgres.url): cannot read the columns of schema app to check the "
                        + "invalidation rules: cannot connect to Postgres")
                .hasMessageNotContaining("hunter2");
    }
}
