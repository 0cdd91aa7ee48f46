package dev.changeflow.stack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changeflow.db.SchemaMigrations;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

/** The db module's migrations, applied to a real Postgres exactly as the application applies them. */
class SchemaMigrationsIT {
    private final PostgresServer postgres = SharedServers.postgres();

    @Test
    void migrationsApplyToAnEmptyDatabaseAndAreANoOpWhenRunAgain() throws Exception {
        DataSource db = postgres.dataSource(postgres.createDatabase("migrate"));

        MigrateResult first = SchemaMigrations.apply(db);
        MigrateResult second = SchemaMigrations.apply(db);

        assertThat(first.migrationsExecuted).isGreaterThanOrEqualTo(1);
        assertThat(first.success).isTrue();
        assertThat(second.migrationsExecuted).isZero();
        assertThat(second.targetSchemaVersion).isNull();
        assertThat(tables(db)).containsKeys("organizations", "projects", "tasks");
    }

    @Test
    void tasksAndProjectsHaveReplicaIdentityFullInTheCatalog() throws Exception {
        DataSource db = postgres.dataSource(postgres.createDatabase("identity"));
        SchemaMigrations.apply(db);

        // relreplident: 'f' = FULL, 'd' = DEFAULT (primary key only).
        assertThat(tables(db)).containsEntry("tasks", "f").containsEntry("projects", "f");
    }

    @Test
    void tasksHaveTheColumnsTheCaptureContractReliesOn() throws Exception {
        DataSource db = postgres.dataSource(postgres.createDatabase("columns"));
        SchemaMigrations.apply(db);

        Map<String, String> columns = new HashMap<>();
        try (Connection c = db.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT column_name, data_type FROM information_schema.columns "
                        + "WHERE table_schema = 'app' AND table_name = 'tasks'")) {
            while (rs.next()) {
                columns.put(rs.getString(1), rs.getString(2));
            }
        }
        assertThat(columns).containsEntry("id", "uuid")
                .containsEntry("project_id", "uuid")
                .containsEntry("title", "text")
                .containsEntry("description", "text")
                .containsEntry("status", "text")
                .containsEntry("priority", "smallint")
                .containsEntry("assignee", "text")
                .containsEntry("due_date", "date")
                .containsEntry("created_at", "timestamp with time zone")
                .containsEntry("updated_at", "timestamp with time zone");
    }

    private static Map<String, String> tables(DataSource db) throws Exception {
        Map<String, String> identities = new HashMap<>();
        try (Connection c = db.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT c.relname, c.relreplident::text FROM pg_class c "
                        + "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        + "WHERE n.nspname = 'app' AND c.relkind = 'r'")) {
            while (rs.next()) {
                identities.put(rs.getString(1), rs.getString(2));
            }
        }
        return identities;
    }
}
