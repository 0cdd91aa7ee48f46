package dev.changeflow.stack;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.db.PostgresEndpoint;
import dev.changeflow.stack.StackSettings.PostgresProvider;
import dev.changeflow.stack.internal.PostgresLaunchers;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Objects;
import java.util.UUID;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A running Postgres server with {@code wal_level=logical}: one started here (embedded binaries or Testcontainers),
 * or an external one given by {@link ConnectionSettings#POSTGRES_URL}. Thread-safe; {@link #close()} stops a server that
 * was started here and leaves an external one alone.
 */
public final class PostgresServer implements AutoCloseable {
    /** Where the server came from. */
    public enum Origin { EMBEDDED, TESTCONTAINERS, EXTERNAL }

    private final Origin origin;
    private final PostgresEndpoint endpoint;
    private final AutoCloseable stopper;

    /** For launchers: describes a server that is up and accepts connections at {@code endpoint}. */
    public PostgresServer(Origin origin, PostgresEndpoint endpoint, AutoCloseable stopper) {
        this.origin = Objects.requireNonNull(origin);
        this.endpoint = Objects.requireNonNull(endpoint);
        this.stopper = Objects.requireNonNull(stopper);
    }

    /**
     * Starts or connects to the Postgres that {@code settings} select: the external server of
     * {@link ConnectionSettings#POSTGRES_URL} if given, otherwise one from {@link StackSettings#POSTGRES_PROVIDER}.
     *
     * @throws ConfigException naming the setting if the URL is unreachable, rejects the credentials, or has a
     *     {@code wal_level} other than logical, or if the provider cannot run here
     */
    public static PostgresServer start(Settings settings) {
        if (settings.raw(ConnectionSettings.POSTGRES_URL).isPresent()) {
            return PostgresLaunchers.external(settings);
        }
        PostgresProvider provider = settings.get(StackSettings.POSTGRES_PROVIDER);
        return provider == PostgresProvider.TESTCONTAINERS
                ? PostgresLaunchers.testcontainers(settings)
                : PostgresLaunchers.embedded(settings);
    }

    public Origin origin() {
        return origin;
    }

    public String host() {
        return endpoint.host();
    }

    public int port() {
        return endpoint.port();
    }

    /** The database named by the URL, or {@code postgres} for a server started here. */
    public String database() {
        return endpoint.database();
    }

    public String user() {
        return endpoint.user();
    }

    /** The password, or null if the server trusts local connections. Never log it. */
    public String password() {
        return endpoint.password();
    }

    /** Where another database on this server is, with this server's credentials. */
    public PostgresEndpoint endpoint(String databaseName) {
        return endpoint.withDatabase(databaseName);
    }

    /** JDBC URL of {@link #database()}, without credentials. */
    public String jdbcUrl() {
        return endpoint.jdbcUrl();
    }

    /** JDBC URL of another database on this server, without credentials. */
    public String jdbcUrl(String databaseName) {
        return endpoint(databaseName).jdbcUrl();
    }

    /** A new connection to {@link #database()}; the caller closes it. */
    public Connection connect() throws SQLException {
        return endpoint.connect();
    }

    /** A new connection to {@code databaseName}; the caller closes it. */
    public Connection connect(String databaseName) throws SQLException {
        return endpoint(databaseName).connect();
    }

    /** A non-pooling data source for {@code databaseName}. */
    public DataSource dataSource(String databaseName) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setUrl(jdbcUrl(databaseName));
        ds.setUser(endpoint.user());
        if (endpoint.password() != null) {
            ds.setPassword(endpoint.password());
        }
        return ds;
    }

    /**
     * Creates an empty database with a unique name starting with {@code prefix}, so that a test has tables of its own.
     * On an external server the user needs the CREATEDB privilege.
     *
     * @return the new database's name
     */
    public String createDatabase(String prefix) throws SQLException {
        String name = (prefix + "_" + UUID.randomUUID().toString().substring(0, 8)).toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9_]", "_");
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        return name;
    }

    /** Stops the server if it was started here; a no-op for an external one. */
    @Override
    public void close() throws Exception {
        stopper.close();
    }

    @Override
    public String toString() {
        return origin.name().toLowerCase(Locale.ROOT) + " Postgres at " + host() + ":" + port() + "/" + database();
    }
}
