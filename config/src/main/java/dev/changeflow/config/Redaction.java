package dev.changeflow.config;

import java.util.regex.Pattern;

/** Removes secrets from text that may reach a log or an error message. Stateless and thread-safe. */
public final class Redaction {
    /** {@code scheme://user:password@host} and {@code scheme://:password@host}. */
    private static final Pattern USER_INFO = Pattern.compile("(?<=://)([^/@\\s:]*):[^/@\\s]*@");
    /** {@code password=...} in JDBC query strings and similar key=value lists. */
    private static final Pattern PASSWORD_PARAM = Pattern.compile("(?i)(password|secret|token)=[^&;\\s]*");

    private Redaction() {
    }

    /**
     * Returns {@code text} with passwords in URI user-info and in {@code password=} parameters replaced by
     * {@code ****}. Never null for a non-null input.
     */
    public static String maskCredentials(String text) {
        String masked = USER_INFO.matcher(text).replaceAll("$1:****@");
        return PASSWORD_PARAM.matcher(masked).replaceAll("$1=****");
    }
}
