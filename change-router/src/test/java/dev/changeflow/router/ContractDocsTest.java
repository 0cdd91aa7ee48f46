package dev.changeflow.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The contract in {@code docs/} says what the code does. */
class ContractDocsTest {

    /** Surefire runs in the module directory; {@code docs/} is beside it. */
    private static final Path DOCS = Path.of(System.getProperty("user.dir")).resolve("../docs");

    @Test
    void theSchemaResourceIsByteIdenticalToTheCopyInDocs() throws IOException {
        byte[] docsCopy = Files.readAllBytes(DOCS.resolve("change-event-v1.schema.json"));

        assertThat(docsCopy).isEqualTo(ChangeEventSchema.load().getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theExampleInTheDocsIsTheSampleUpdateAndIsValid() throws IOException {
        String doc = Files.readString(DOCS.resolve("change-event.md"));
        Matcher block = Pattern.compile("```json\n(.*?)```", Pattern.DOTALL).matcher(doc);
        assertThat(block.find()).as("a json block in change-event.md").isTrue();
        byte[] example = block.group(1).getBytes(StandardCharsets.UTF_8);

        assertThat(ChangeEventSchemaTest.validate(example)).isEmpty();
        assertThat(ChangeEventCodec.decode(example)).isEqualTo(SampleEvents.update());
    }

    @Test
    void theDocumentedEventIdDerivationIsTheOneTheCodeUses() throws IOException {
        String doc = Files.readString(DOCS.resolve("change-event.md"));
        String canonical = "5:tasks2:id36:" + SampleEvents.TASK_ID + "11:975000597206:update";

        assertThat(doc).contains(canonical).contains(SampleEvents.update().eventId());
        assertThat(SampleEvents.update().eventId())
                .isEqualTo(UUID.nameUUIDFromBytes(canonical.getBytes(StandardCharsets.UTF_8)).toString());
    }
}
