package dev.changeflow.capture.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.util.HexFormat;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class BackfillsTest {

    @Test
    void aConditionThatIsOneExpressionPassesTheShapeCheck() {
        assertThatCode(() -> Backfills.checkShape("project_id = 'a' AND (status = 'done' OR priority > 2)"))
                .doesNotThrowAnyException();
        assertThatCode(() -> Backfills.checkShape("title = 'it''s; -- not a comment (really'"))
                .as("quotes hide what they contain").doesNotThrowAnyException();
        assertThatCode(() -> Backfills.checkShape("\"title\" IN (SELECT title FROM app.tasks)"))
                .doesNotThrowAnyException();
    }

    @Test
    void aConditionThatCouldEscapeItsWhereIsRefusedSayingWhy() {
        assertThatThrownBy(() -> Backfills.checkShape("true); DROP TABLE app.tasks; --"))
                .isInstanceOf(BackfillRefusedException.class).hasMessageContaining("a ')' without its '('");
        assertThatThrownBy(() -> Backfills.checkShape("true; DELETE FROM app.tasks"))
                .hasMessageContaining("';'");
        assertThatThrownBy(() -> Backfills.checkShape("true -- trailing")).hasMessageContaining("a comment");
        assertThatThrownBy(() -> Backfills.checkShape("true /* x */")).hasMessageContaining("a comment");
        assertThatThrownBy(() -> Backfills.checkShape("title = $$x$$")).hasMessageContaining("dollar");
        assertThatThrownBy(() -> Backfills.checkShape("title = 'open")).hasMessageContaining("unterminated");
        assertThatThrownBy(() -> Backfills.checkShape("(title = 'x'")).hasMessageContaining("a '(' without");
        assertThatThrownBy(() -> Backfills.checkShape("true) UNION SELECT 1 WHERE (true"))
                .hasMessageStartingWith("--where \"true) UNION SELECT 1 WHERE (true\" does not parse");
    }

    @Test
    void debeziumsSerializedChunkKeyIsReadBackAndAnythingElseIsNot() throws Exception {
        UUID id = UUID.randomUUID();
        assertThat(Backfills.deserializeKey(serialize(new Object[] {id}))).containsExactly(id);
        assertThat(Backfills.deserializeKey(serialize(new Object[] {42L, "x"}))).containsExactly(42L, "x");
        assertThat(Backfills.deserializeKey(serialize(new Object[] {new java.util.ArrayList<>()})))
                .as("a type a key cannot have is refused").isNull();
        assertThat(Backfills.deserializeKey("zz")).isNull();
    }

    private static String serialize(Object[] key) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(key);
        }
        return HexFormat.of().withUpperCase().formatHex(bytes.toByteArray());
    }
}
