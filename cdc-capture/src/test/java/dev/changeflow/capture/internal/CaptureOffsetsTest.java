package dev.changeflow.capture.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CaptureOffsetsTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void anOffsetKeyBelongsToTheEngineNamedFirstInIt() {
        assertThat(CaptureOffsets.ownedBy(utf8("[\"changeflow-capture-s1\",{\"server\":\"changeflow\"}]"),
                "changeflow-capture-s1")).isTrue();
        assertThat(CaptureOffsets.ownedBy(utf8("[\"changeflow-capture-s10\",{\"server\":\"changeflow\"}]"),
                "changeflow-capture-s1")).isFalse();
        assertThat(CaptureOffsets.ownedBy(utf8("not json"), "changeflow-capture-s1")).isFalse();
        assertThat(CaptureOffsets.ownedBy(utf8("{\"a\":1}"), "changeflow-capture-s1")).isFalse();
    }

    @Test
    void movingAnOffsetSetsItsLsnDropsTheProcessedPositionsAndKeepsTheRest() throws Exception {
        byte[] moved = CaptureOffsets.movedValue(utf8("{\"lsn_proc\":100,\"lsn_commit\":90,\"lsn\":100,"
                + "\"txId\":7,\"ts_usec\":123,\"messageType\":\"UPDATE\"}"), 5000);

        String json = new String(moved, StandardCharsets.UTF_8);
        assertThat(json).contains("\"lsn\":5000", "\"ts_usec\":123", "\"messageType\":\"UPDATE\"")
                .doesNotContain("lsn_proc", "lsn_commit", "txId");
    }

    @Test
    void anOffsetThatIsNotAnObjectIsAnError() {
        assertThatThrownBy(() -> CaptureOffsets.movedValue(utf8("[1,2]"), 1))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void lsnsParseAsPostgresWritesThem() {
        assertThat(CaptureOffsets.parseLsn("0/3B98B78")).isEqualTo(0x3B98B78L);
        assertThat(CaptureOffsets.parseLsn("16/B374D848")).isEqualTo((0x16L << 32) | 0xB374D848L);
    }
}
