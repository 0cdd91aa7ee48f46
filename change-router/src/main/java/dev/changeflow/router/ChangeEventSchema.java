package dev.changeflow.router;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The JSON Schema (draft 2020-12) of version 1 of the change event, shipped on the classpath. It describes exactly
 * what {@link ChangeEventCodec#encode} writes; {@code docs/change-event-v1.schema.json} is a byte-identical copy.
 */
public final class ChangeEventSchema {

    /** The schema's {@code $id}. */
    public static final String ID = "https://changeflow.dev/schemas/change-event-v1.json";

    /** The classpath location of the schema, for {@link ClassLoader#getResource} (no leading slash). */
    public static final String RESOURCE = "dev/changeflow/router/change-event-v1.schema.json";

    private ChangeEventSchema() {
    }

    /**
     * The schema's JSON text. Never null.
     *
     * @throws IllegalStateException if the resource is missing from the classpath
     * @throws UncheckedIOException if it cannot be read
     */
    public static String load() {
        try (InputStream in = ChangeEventSchema.class.getResourceAsStream("/" + RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("The classpath has no " + RESOURCE);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + RESOURCE, e);
        }
    }
}
