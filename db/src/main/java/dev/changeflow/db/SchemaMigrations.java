package dev.changeflow.db;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Applies Changeflow's Flyway migrations ({@code db/migrations/} in the repository, packaged on the classpath under
 * {@value #LOCATION}) to a database. The application calls it at startup and the tests call it too, so both run the
 * same files.
 */
public final class SchemaMigrations {
    /** Classpath location of the migration scripts. */
    public static final String LOCATION = "classpath:changeflow/db/migrations";

    /** Schema that holds the application tables and Flyway's history table. */
    public static final String SCHEMA = "app";

    private SchemaMigrations() {
    }

    /**
     * Brings {@code dataSource}'s {@code app} schema up to the latest version. Idempotent: on an up-to-date database it
     * applies nothing and returns a result with zero migrations executed.
     *
     * @throws org.flywaydb.core.api.FlywayException if a migration fails or an applied one was changed
     */
    public static MigrateResult apply(DataSource dataSource) {
        return migrations().dataSource(dataSource).load().migrate();
    }

    /**
     * As {@link #apply(DataSource)}, on the database of {@code endpoint} (what {@code changeflow migrate} does with
     * {@code CHANGEFLOW_POSTGRES_URL}).
     */
    public static MigrateResult apply(PostgresEndpoint endpoint) {
        return migrations().dataSource(endpoint.jdbcUrl(), endpoint.user(), endpoint.password()).load().migrate();
    }

    /**
     * As {@link #apply(PostgresEndpoint)}, but only the migrations whose version is below {@code version}: the
     * database as it was before migration {@code version} (a scratch database on which to try that migration).
     *
     * @param version a Flyway version such as {@code 7} or {@code 7.1}
     * @return the result, or empty if no bundled migration is below {@code version}
     */
    public static java.util.Optional<MigrateResult> applyBelow(PostgresEndpoint endpoint, String version) {
        org.flywaydb.core.api.MigrationVersion limit = org.flywaydb.core.api.MigrationVersion.fromVersion(version);
        Flyway flyway = migrations().dataSource(endpoint.jdbcUrl(), endpoint.user(), endpoint.password()).load();
        return java.util.Arrays.stream(flyway.info().all())
                .map(org.flywaydb.core.api.MigrationInfo::getVersion)
                .filter(v -> v != null && v.compareTo(limit) < 0)
                .max(java.util.Comparator.naturalOrder())
                .map(target -> migrations().dataSource(endpoint.jdbcUrl(), endpoint.user(), endpoint.password())
                        .target(target).load().migrate());
    }

    private static FluentConfiguration migrations() {
        return Flyway.configure().locations(LOCATION).schemas(SCHEMA).createSchemas(true);
    }
}
