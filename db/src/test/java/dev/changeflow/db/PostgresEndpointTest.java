package dev.changeflow.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changeflow.config.Settings;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PostgresEndpointTest {

    @Test
    void aLibpqStyleUrlCarriesUserPasswordHostPortAndDatabase() {
        PostgresEndpoint e = PostgresEndpoint.from(Settings.of(Map.of(
                "CHANGEFLOW_POSTGRES_URL", "postgresql://app:p%40ss@db.internal:6543/shop")));

        assertThat(e).isEqualTo(new PostgresEndpoint("db.internal", 6543, "shop", "app", "p@ss"));
        assertThat(e.jdbcUrl()).isEqualTo("jdbc:postgresql://db.internal:6543/shop");
    }

    @Test
    void aJdbcUrlTakesCredentialsFromItsQueryOrFromTheSeparateSettings() {
        assertThat(PostgresEndpoint.from(Settings.of(Map.of(
                "CHANGEFLOW_POSTGRES_URL", "jdbc:postgresql://localhost/app?user=cdc&password=x"))))
                .isEqualTo(new PostgresEndpoint("localhost", 5432, "app", "cdc", "x"));
        assertThat(PostgresEndpoint.from(Settings.of(Map.of(
                "CHANGEFLOW_POSTGRES_URL", "jdbc:postgresql://localhost:5433/",
                "CHANGEFLOW_POSTGRES_USER", "ops",
                "CHANGEFLOW_POSTGRES_PASSWORD", "y"))))
                .isEqualTo(new PostgresEndpoint("localhost", 5433, "postgres", "ops", "y"));
    }

    @Test
    void thePasswordNeverAppearsInToString() {
        PostgresEndpoint e = new PostgresEndpoint("h", 1, "d", "u", "s3cret");
        assertThat(e.toString()).doesNotContain("s3cret").isEqualTo("PostgresEndpoint[u@h:1/d]");
    }
}
