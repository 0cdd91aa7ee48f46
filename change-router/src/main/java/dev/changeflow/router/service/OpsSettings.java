package dev.changeflow.router.service;

import dev.changeflow.config.Setting;
import java.util.List;

/** Settings of the operations HTTP endpoint ({@code /health}, {@code /ready}, {@code /metrics}) of every process. */
public final class OpsSettings {

    public static final Setting<String> HTTP_HOST = Setting.string("changeflow.http.host",
            "Address the operations endpoint (/health, /ready, /metrics) listens on. 0.0.0.0 so that probes and "
                    + "Prometheus reach it in a container; 127.0.0.1 to keep it to this machine.",
            "0.0.0.0");

    public static final Setting<Integer> HTTP_PORT = Setting.integer("changeflow.http.port",
            "Port of the operations endpoint (/health, /ready, /metrics); 0 picks a free port (logged).", 8080, 0,
            65535);

    /** Every setting above, in documentation order. */
    public static final List<Setting<?>> ALL = List.of(HTTP_HOST, HTTP_PORT);

    private OpsSettings() {
    }
}
