package dev.changeflow.capture.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SourceOffsetsTest {

    @Test
    void theMarkOfAnIncrementalSnapshotIsLeftOutAndItsPositionKept() {
        Map<String, Object> offset = new LinkedHashMap<>();
        offset.put("lsn", 42L);
        offset.put("snapshot", "INCREMENTAL");
        offset.put("last_snapshot_record", false);
        offset.put("incremental_snapshot_collections", "[{\"incremental_snapshot_collections_id\":\"app.tasks\"}]");
        offset.put("incremental_snapshot_primary_key", "ACED");

        assertThat(SourceOffsets.withoutIncrementalMark(offset)).containsOnlyKeys("lsn",
                "incremental_snapshot_collections", "incremental_snapshot_primary_key");
    }

    @Test
    void aBlockingSnapshotsMarkIsKept() {
        Map<String, Object> offset = Map.of("lsn", 42L, "snapshot", "INITIAL", "last_snapshot_record", false);

        assertThat(SourceOffsets.withoutIncrementalMark(offset)).isEqualTo(offset);
    }
}
