package dev.changeflow.router.service;

import dev.changeflow.config.Settings;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

/**
 * The admin bearer token ({@link OpsSettings#ADMIN_TOKEN}) and the check of a request's {@code Authorization} header
 * against it. The comparison takes the same time whatever the header holds: both sides are hashed with SHA-256 and
 * the digests compared with {@link MessageDigest#isEqual}, so neither the token's characters nor its length leak
 * through timing. The token is never logged and {@link #toString()} does not show it. Immutable.
 */
public final class BearerToken {
    private static final String SCHEME = "Bearer ";
    private final byte[] digest;

    private BearerToken(String token) {
        this.digest = sha256(token);
    }

    /** The configured token, or empty when the admin API is off. */
    public static Optional<BearerToken> from(Settings settings) {
        return settings.find(OpsSettings.ADMIN_TOKEN).map(BearerToken::new);
    }

    /** A token with this value; for tests and programs that generate one. */
    public static BearerToken of(String token) {
        return new BearerToken(token);
    }

    /**
     * Why a request to an endpoint guarded by {@code configured} is refused, if it is: 404 when no token is
     * configured (the endpoint is off, never open), 401 when the request's {@code Authorization} header does not carry
     * the token (the response must then carry {@link Refusal#CHALLENGE} as {@code WWW-Authenticate}). Empty: let it in.
     * Every guarded endpoint (the admin API, search) decides here.
     *
     * @param what what is guarded, for the message, such as {@code the admin API}
     */
    public static Optional<Refusal> refusal(Optional<BearerToken> configured, String authorization, String what) {
        if (configured.isEmpty()) {
            return Optional.of(new Refusal(404, what + " is off: set " + OpsSettings.ADMIN_TOKEN.envName()
                    + " to turn it on (requests then need it as a bearer token)"));
        }
        if (!configured.get().accepts(authorization)) {
            return Optional.of(new Refusal(401, "a valid bearer token is required"));
        }
        return Optional.empty();
    }

    /** A refused request: its HTTP status and a message for the body. */
    public record Refusal(int status, String message) {
        /** The {@code WWW-Authenticate} value of a 401. */
        public static final String CHALLENGE = "Bearer realm=\"changeflow\"";
    }

    /** Whether {@code authorization} (an HTTP {@code Authorization} header, possibly null) carries this token. */
    public boolean accepts(String authorization) {
        String given = authorization != null && authorization.regionMatches(true, 0, SCHEME, 0, SCHEME.length())
                ? authorization.substring(SCHEME.length()).trim() : "";
        boolean equal = MessageDigest.isEqual(digest, sha256(given));
        return equal && !given.isEmpty();
    }

    private static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    @Override
    public String toString() {
        return "BearerToken[****]";
    }
}
