package dev.changeflow.indexer;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Where a search-index rebuild stands ({@code GET /search/rebuild}), a snapshot. Offsets count positions on the
 * topics, so a compacted state topic's count of done offsets may run ahead of its records.
 *
 * @param phase where it is
 * @param generation the generation being built, null before it exists
 * @param replacing the generation it replaces (the live one when it started)
 * @param stateRecords state records indexed so far
 * @param stateOffsetsDone offsets of the state topics read so far, out of {@code stateOffsetsTotal}
 * @param changeRecords change records indexed so far, over every catch-up pass
 * @param changeOffsetsDone offsets of the change topics read in the current catch-up pass, out of
 *     {@code changeOffsetsTotal}
 * @param skipped records skipped: undecodable, or documents the engine refused (the live indexer dead-letters those)
 * @param startedAt when it started
 * @param finishedAt when it finished (done, failed or cancelled), else null
 * @param error why it failed, else null
 */
public record RebuildStatus(Phase phase, String generation, String replacing, long stateRecords,
        long stateOffsetsDone, long stateOffsetsTotal, long changeRecords, long changeOffsetsDone,
        long changeOffsetsTotal, long skipped, Instant startedAt, Instant finishedAt, String error) {

    /** The steps of a rebuild, in order; it ends in {@link #DONE}, {@link #FAILED} or {@link #CANCELLED}. */
    public enum Phase {
        /** The new generation is being filled from the state topics. */
        LOADING_STATE,
        /** The new generation is catching up from the change topics. */
        CATCHING_UP,
        /** The new generation is becoming the current one. */
        SWITCHING,
        /** The new generation is current; the old one is deleted. */
        DONE,
        /** It stopped on an error; the old generation stays current and the new one is deleted. */
        FAILED,
        /** The indexer stopped during it; the old generation stays current and the new one is deleted. */
        CANCELLED;

        /** Whether the rebuild has ended. */
        public boolean finished() {
            return this == DONE || this == FAILED || this == CANCELLED;
        }

        /** The lowercase name used in JSON: {@code loading_state}. */
        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The JSON body of {@code GET /search/rebuild}, with snake_case keys; null values are kept. */
    public Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("phase", phase.json());
        json.put("generation", generation);
        json.put("replacing", replacing);
        json.put("state_records", stateRecords);
        json.put("state_offsets_done", stateOffsetsDone);
        json.put("state_offsets_total", stateOffsetsTotal);
        json.put("change_records", changeRecords);
        json.put("change_offsets_done", changeOffsetsDone);
        json.put("change_offsets_total", changeOffsetsTotal);
        json.put("skipped", skipped);
        json.put("started_at", startedAt == null ? null : startedAt.toString());
        json.put("finished_at", finishedAt == null ? null : finishedAt.toString());
        json.put("error", error);
        return json;
    }
}
