package dev.changeflow.capture.schema;

import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.router.service.AdminRoute;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The row schema versions of capture's schema topic, read-only, on the admin API, in the shapes of the Confluent
 * Schema Registry API under the base path {@code /schemas} (so a registry client pointed at
 * {@code http://<host>:<port>/schemas} with the admin token as bearer token reads them):
 * <ul>
 *   <li>{@code GET /schemas/subjects}: the subjects, {@code ["cdc.tasks-changes-value", ...]};</li>
 *   <li>{@code GET /schemas/subjects/{subject}/versions}: its versions, {@code [1, 2]};</li>
 *   <li>{@code GET /schemas/subjects/{subject}/versions/{version|latest}}: {@code {subject, version, id, schemaType,
 *       schema}}, plus Changeflow's {@code compatibility}, {@code breaking} and {@code registeredAt};</li>
 *   <li>{@code GET /schemas/schemas/ids/{id}}: {@code {schemaType, schema}};</li>
 *   <li>{@code GET /schemas/config/{subject}}: {@code {compatibilityLevel}}.</li>
 * </ul>
 * Unknown subjects, versions and ids answer 404 with Confluent's error codes (40401, 40402, 40403). With a schema
 * registry configured the versions live there: every route answers 404 naming it.
 */
public final class SchemaAdminRoutes {
    private static final String SUBJECT = "([A-Za-z0-9._-]{1,255})";

    private SchemaAdminRoutes() {
    }

    public static List<AdminRoute> of(Settings settings) {
        return List.of(
                AdminRoute.of("GET", "/schemas/subjects", request -> read(settings, versions ->
                        AdminRoute.Response.ok(versions.subjects()))),
                AdminRoute.of("GET", "/schemas/subjects/" + SUBJECT + "/versions", request -> read(settings,
                        versions -> {
                            List<SchemaVersion> list = versions.versions(request.pathParameters().get(0));
                            return list.isEmpty() ? notFound(40401, "Subject '" + request.pathParameters().get(0)
                                    + "' not found.")
                                    : AdminRoute.Response.ok(list.stream().map(SchemaVersion::version).toList());
                        })),
                AdminRoute.of("GET", "/schemas/subjects/" + SUBJECT + "/versions/(latest|\\d{1,9})", request ->
                        read(settings, versions -> {
                            String subject = request.pathParameters().get(0);
                            List<SchemaVersion> list = versions.versions(subject);
                            if (list.isEmpty()) {
                                return notFound(40401, "Subject '" + subject + "' not found.");
                            }
                            String wanted = request.pathParameters().get(1);
                            Optional<SchemaVersion> version = wanted.equals("latest")
                                    ? Optional.of(list.get(list.size() - 1))
                                    : list.stream().filter(v -> v.version() == Integer.parseInt(wanted)).findFirst();
                            return version.map(v -> AdminRoute.Response.ok(json(v)))
                                    .orElseGet(() -> notFound(40402, "Version " + wanted + " not found."));
                        })),
                AdminRoute.of("GET", "/schemas/schemas/ids/(\\d{1,9})", request -> read(settings, versions -> {
                    int id = Integer.parseInt(request.pathParameters().get(0));
                    return versions.all().stream().filter(v -> v.id() == id).findFirst()
                            .map(v -> AdminRoute.Response.ok(Map.of("schemaType", "JSON", "schema", v.schema())))
                            .orElseGet(() -> notFound(40403, "Schema " + id + " not found"));
                })),
                AdminRoute.of("GET", "/schemas/config/" + SUBJECT, request -> read(settings, versions -> {
                    String subject = request.pathParameters().get(0);
                    List<SchemaVersion> list = versions.versions(subject);
                    return list.isEmpty() ? notFound(40401, "Subject '" + subject + "' not found.")
                            : AdminRoute.Response.ok(Map.of("compatibilityLevel",
                                    list.get(list.size() - 1).compatibility()));
                })));
    }

    private interface Answer {
        AdminRoute.Response from(SchemaVersions versions);
    }

    private static AdminRoute.Response read(Settings settings, Answer answer) {
        if (!settings.get(CaptureSettings.ROW_SCHEMAS)) {
            return AdminRoute.Response.error(404, "Row schemas are off (" + CaptureSettings.ROW_SCHEMAS.key() + ")");
        }
        if (settings.find(CaptureSettings.SCHEMA_REGISTRY_URL).isPresent()) {
            return AdminRoute.Response.error(404, "Row schemas are registered in the schema registry of "
                    + CaptureSettings.SCHEMA_REGISTRY_URL.key() + ": read them there");
        }
        return answer.from(SchemaVersions.read(settings));
    }

    private static AdminRoute.Response notFound(int code, String message) {
        return new AdminRoute.Response(404, Map.of("error_code", code, "message", message));
    }

    private static Map<String, Object> json(SchemaVersion v) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("subject", v.subject());
        json.put("version", v.version());
        json.put("id", v.id());
        json.put("schemaType", "JSON");
        json.put("schema", v.schema());
        json.put("table", v.table());
        json.put("compatibility", v.compatibility());
        json.put("breaking", v.breaking());
        json.put("registeredAt", v.registeredAt() == null ? null : v.registeredAt().toString());
        return json;
    }
}
