package dev.changeflow.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class ChangeEventCodecSchemaCheckTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aValidEventPassesTheSchemaCheckAndDecodesToTheSameEvent() {
        ChangeEvent event = SampleEvents.update();

        assertThat(ChangeEventCodec.decodeChecked(ChangeEventCodec.encode(event))).isEqualTo(event);
    }

    @Test
    void anEventIdThatIsNotAUuidBreaksTheSchemaAndIsNamedInTheMessage() throws Exception {
        ObjectNode tree = (ObjectNode) JSON.readTree(ChangeEventCodec.encode(SampleEvents.update()));
        tree.put("eventId", "not-a-uuid");

        assertThatThrownBy(() -> ChangeEventCodec.decodeChecked(JSON.writeValueAsBytes(tree)))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("breaks the JSON Schema")
                .hasMessageContaining("eventId");
    }

    @Test
    void aFieldAddedLaterWithinVersionOneIsIgnoredNotRejected() throws Exception {
        ChangeEvent event = SampleEvents.update();
        ObjectNode tree = (ObjectNode) JSON.readTree(ChangeEventCodec.encode(event));
        tree.put("traceId", "4bf92f3577b34da6a3ce929d0e0e4736");

        assertThat(ChangeEventCodec.decodeChecked(JSON.writeValueAsBytes(tree))).isEqualTo(event);
    }

    @Test
    void garbageIsRejectedBeforeTheSchemaIsConsulted() {
        assertThatThrownBy(() -> ChangeEventCodec.decodeChecked("{oops".getBytes()))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("invalid JSON");
    }
}
