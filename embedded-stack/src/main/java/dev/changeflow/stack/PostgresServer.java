package dev.changeflow.stack;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.db.PostgresEndpoint;
import dev.changeflow.stack.StackSettings.PostgresProvider;
import dev.changeflow.stack.internal.PostgresLaunchers;
import java.nio.file.Path;
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

    /**
     * Postgres 17 (zonky binaries) whose data lives in {@code directory}: initialised on first use, reused after.
     * port 0 = a free port.
     *
     * <p>Same server settings as the other local servers ({@code wal_level=logical}, room for replication slots), but
     * a real database: {@code synchronous_commit}, {@code fsync} and {@code full_page_writes} are on. User
     * {@code postgres}, database {@code postgres}, no password; it listens on localhost only. The data directory is
     * {@code directory/data}, the extracted binaries are in {@code directory/pg-binaries} (unless an embedded Postgres
     * of this JVM extracted them elsewhere first), the server's output goes to {@code directory/postgres.log}. If a
     * JVM killed with {@code -9} left its postmaster running on the data directory, that postmaster is stopped first
     * (SIGTERM, then SIGKILL after 10 s; one log line).
     *
     * <p>{@link #close()} ends replication connections (a logical slot keeps its confirmed position), then stops the
     * server with {@code pg_ctl stop -m fast} (clients are disconnected, a shutdown checkpoint is written), typically in
     * about 0.1 s; a server that has not stopped after 5 s (say, a replication client that stopped reading) is killed,
     * and the next start recovers every commit from the WAL. It keeps {@code directory}, is idempotent, accepts that
     * the server already stopped, and afterwards no process of this server is running. The postmaster runs in its own
     * session (pg_ctl detaches it), so a terminal's Ctrl-C does not reach it: close the server from a shutdown hook.
     *
     * @param directory created if missing; must not be in use by another live server
     * @param port 1-65535, or 0 for a free port
     * @return a running server, never null
     * @throws IllegalStateException naming the port if it is taken, naming the owner if another live process uses
     *     {@code directory}, or if the server does not start (naming its log file)
     * @throws IllegalArgumentException if {@code port} is out of range
     */
    public static PostgresServer startPersistent(Path directory, int port) {
        return PostgresLaunchers.persistent(Objects.requireNonNull(directory, "directory"), port);
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
