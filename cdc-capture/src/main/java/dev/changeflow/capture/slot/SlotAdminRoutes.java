package dev.changeflow.capture.slot;

import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.router.service.AdminRoute;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The admin routes of a process hosting capture:
 * <ul>
 *   <li>{@code GET /slots}: every logical slot of the database ({@link SlotStatus}), each with
 *       {@code retained_wal_warning} when it retains more than {@code changeflow.capture.retained-wal-warning-mb}.</li>
 *   <li>{@code POST /slots/{name}/reset[?mode=resnapshot|from-now][&accept_gap=true][&stop_capture=true]}: the safe
 *       reset of {@link ReplicationSlots#reset}. 200 with what was done, 409 when refused (capture holds the slot
 *       and {@code stop_capture} is not set, or {@code from-now} without {@code accept_gap}: the body says what would
 *       be lost), 400 for a bad mode.</li>
 * </ul>
 */
public final class SlotAdminRoutes {
    private SlotAdminRoutes() {
    }

    public static List<AdminRoute> of(Settings settings) {
        long warningBytes = (long) settings.get(CaptureSettings.RETAINED_WAL_WARNING_MB) << 20;
        return List.of(
                AdminRoute.of("GET", "/slots", request -> AdminRoute.Response.ok(
                        ReplicationSlots.from(settings).status().stream().map(s -> json(s, warningBytes)).toList())),
                AdminRoute.of("POST", "/slots/([a-z0-9_]{1,63})/reset", request -> reset(settings, request)));
    }

    private static AdminRoute.Response reset(Settings settings, AdminRoute.Request request) throws Exception {
        String slot = request.pathParameters().get(0);
        String mode = request.query().getOrDefault("mode", "resnapshot").toLowerCase(Locale.ROOT);
        ReplicationSlots.Reset reset = switch (mode) {
            case "resnapshot" -> ReplicationSlots.Reset.RESNAPSHOT;
            case "from-now" -> ReplicationSlots.Reset.FROM_NOW;
            default -> throw new IllegalArgumentException("mode must be resnapshot or from-now, not " + mode);
        };
        List<String> steps = new ArrayList<>();
        try {
            ReplicationSlots.Outcome outcome = ReplicationSlots.from(settings).reset(slot, reset,
                    request.flag("accept_gap"), request.flag("stop_capture"), steps::add);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("slot", slot);
            body.put("mode", mode);
            body.put("stopped_capture", outcome.stoppedCapture());
            body.put("offsets_cleared", outcome.offsetsCleared());
            body.put("new_slot_lsn", outcome.newSlotLsn());
            body.put("steps", steps);
            return AdminRoute.Response.ok(body);
        } catch (SlotRefusedException e) {
            return AdminRoute.Response.error(409, e.getMessage());
        }
    }

    private static Map<String, Object> json(SlotStatus s, long warningBytes) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("plugin", s.plugin());
        m.put("active", s.active());
        m.put("active_pid", s.activePid());
        m.put("restart_lsn", s.restartLsn());
        m.put("confirmed_flush_lsn", s.confirmedFlushLsn());
        m.put("retained_wal_bytes", s.retainedBytes());
        m.put("wal_status", s.walStatus());
        m.put("safe_wal_size", s.safeWalSize());
        m.put("lease_holder", s.leaseHolder());
        m.put("retained_wal_warning", s.retainsMoreThan(warningBytes));
        return m;
    }
}
