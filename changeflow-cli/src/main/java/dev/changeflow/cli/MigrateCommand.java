package dev.changeflow.cli;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.db.PostgresEndpoint;
import dev.changeflow.db.SchemaMigrations;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code changeflow migrate}: brings the {@code app} schema of {@code CHANGEFLOW_POSTGRES_URL} to the latest version
 * with Flyway, then exits: 0 when the schema is current, 1 when a migration failed, 2 for a bad setting.
 */
@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = "Applies the Flyway migrations of schema app to CHANGEFLOW_POSTGRES_URL, then exits.")
final class MigrateCommand implements Callable<Integer> {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Properties file with settings.")
    Path config;

    @Override
    public Integer call() {
        PostgresEndpoint endpoint;
        try {
            endpoint = PostgresEndpoint.from(CliSettings.load(config));
        } catch (ConfigException e) {
            System.err.println("changeflow migrate: " + e.getMessage());
            return 2;
        }
        try {
            MigrateResult result = SchemaMigrations.apply(endpoint);
            System.out.println("changeflow migrate: schema " + SchemaMigrations.SCHEMA + " of " + endpoint.host() + ":"
                    + endpoint.port() + "/" + endpoint.database() + " is at version "
                    + (result.targetSchemaVersion == null ? result.initialSchemaVersion : result.targetSchemaVersion)
                    + " (" + result.migrationsExecuted + " migrations applied)");
            return 0;
        } catch (FlywayException e) {
            System.err.println("changeflow migrate: " + ConnectionSettings.POSTGRES_URL.envName() + ": "
                    + e.getMessage().replaceAll("\\s*\\R\\s*", " "));
            return 1;
        }
    }
}
