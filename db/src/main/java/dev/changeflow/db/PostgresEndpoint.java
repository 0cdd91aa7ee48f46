package dev.changeflow.db;

import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Where a Postgres database is and who connects to it, as given by {@link ConnectionSettings#POSTGRES_URL} and its
 * companions. Credentials may sit in the URL's user-info, in its {@code user}/{@code password} query parameters, or in
 * the separate settings, in that order of precedence.
 *
 * @param password null when the server trusts the connection; never log it
 */
public record PostgresEndpoint(String host, int port, String database, String user, String password) {

    /**
     * Reads the endpoint of {@link ConnectionSettings#POSTGRES_URL}.
     *
     * @throws dev.changeflow.config.ConfigException if the URL is unset or malformed
     */
    public static PostgresEndpoint from(Settings settings) {
        URI given = settings.get(ConnectionSettings.POSTGRES_URL);
        URI uri = given.toString().startsWith("jdbc:") ? URI.create(given.toString().substring(5)) : given;
        Map<String, String> query = parseQuery(uri.getRawQuery());
        String[] userInfo = Optional.ofNullable(uri.getRawUserInfo()).map(u -> u.split(":", 2)).orElse(new String[0]);
        String user = userInfo.length > 0 && !userInfo[0].isEmpty() ? decode(userInfo[0])
                : Optional.ofNullable(query.get("user"))
                        .orElseGet(() -> settings.find(ConnectionSettings.POSTGRES_USER).orElse("postgres"));
        String password = userInfo.length > 1 ? decode(userInfo[1])
                : Optional.ofNullable(query.get("password"))
                        .orElseGet(() -> settings.find(ConnectionSettings.POSTGRES_PASSWORD).orElse(null));
        String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
        return new PostgresEndpoint(uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(),
                path.isEmpty() ? "postgres" : path, user, password);
    }

    /** The same server and credentials, another database. */
    public PostgresEndpoint withDatabase(String databaseName) {
        return new PostgresEndpoint(host, port, databaseName, user, password);
    }

    /** JDBC URL of this database, without credentials. */
    public String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    /** A new connection; the caller closes it. Gives up after 10 s if the server does not answer. */
    public Connection connect() throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("connectTimeout", "10");
        if (password != null) {
            props.setProperty("password", password);
        }
        return DriverManager.getConnection(jdbcUrl(), props);
    }

    /** Turns a connection failure into a sentence an operator can act on; never includes the password. */
    public String describe(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (state.startsWith("28")) {
            return "Postgres rejected the credentials of user '" + user + "' (SQLState " + state + ")";
        }
        if (state.startsWith("08")) {
            return "cannot connect to Postgres: " + e.getMessage() + " (SQLState " + state + ")";
        }
        if (state.equals("3D000")) {
            return "database '" + database + "' does not exist (SQLState 3D000)";
        }
        return "Postgres refused the connection: " + e.getMessage();
    }

    @Override
    public String toString() {
        return "PostgresEndpoint[" + user + "@" + host + ":" + port + "/" + database + "]";
    }

    private static Map<String, String> parseQuery(String rawQuery) {
        Map<String, String> out = new HashMap<>();
        if (rawQuery == null) {
            return out;
        }
        for (String pair : rawQuery.split("&")) {
            String[] kv = pair.split("=", 2);
            out.put(decode(kv[0]), kv.length > 1 ? decode(kv[1]) : "");
        }
        return out;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
