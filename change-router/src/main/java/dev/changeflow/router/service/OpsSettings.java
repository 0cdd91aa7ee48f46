package dev.changeflow.router.service;

import dev.changeflow.config.Setting;
import java.util.List;

/**
 * Settings of every process's HTTP endpoint: operations ({@code /health}, {@code /ready}, {@code /metrics}) and the
 * admin API.
 */
public final class OpsSettings {

    public static final Setting<String> HTTP_HOST = Setting.string("changeflow.http.host",
            "Address the operations endpoint (/health, /ready, /metrics) listens on. 0.0.0.0 so that probes and "
                    + "Prometheus reach it in a container; 127.0.0.1 to keep it to this machine.",
            "0.0.0.0");

    public static final Setting<Integer> HTTP_PORT = Setting.integer("changeflow.http.port",
            "Port of the operations endpoint (/health, /ready, /metrics); 0 picks a free port (logged).", 8080, 0,
            65535);

    public static final Setting<String> ADMIN_TOKEN = Setting.secret("changeflow.admin.token",
            "Bearer token of the admin API (GET /lag, GET /slots, POST /slots/{name}/reset, POST /topic, "
                    + "POST /consumer/rebalance) and of the indexer's search endpoint. Unset: those endpoints are off "
                    + "(404), never open. Use at least 32 random characters.",
            null).withValidation("at least 16 characters", v -> v.length() >= 16);

    /** Every setting above, in documentation order. */
    public static final List<Setting<?>> ALL = List.of(HTTP_HOST, HTTP_PORT, ADMIN_TOKEN);

    private OpsSettings() {
    }
}
