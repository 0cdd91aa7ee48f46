package dev.changeflow.router.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class ProgressTest {

    @Test
    void outsideATerminalProgressIsPlainLinesWithoutControlCodesAndAFinalLineAtTheEnd() {
        List<String> lines = new CopyOnWriteArrayList<>();
        try (Progress progress = Progress.plain("replay x.dlt", 200, "records", lines::add)) {
            progress.advance(150);
            progress.doneSoFar(200);
        }

        assertThat(lines).isNotEmpty();
        assertThat(lines).allSatisfy(line -> assertThat(line).doesNotContain("\r", "\u001b"));
        assertThat(lines.get(lines.size() - 1)).contains("replay x.dlt").contains("100%").contains("200/200");
        assertThat(lines.size()).as("at most a start line, interval lines and the final one").isLessThanOrEqualTo(3);
    }
}
