package dev.changeflow.invalidator.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.invalidator.internal.KeyTemplate.InvalidTemplateException;
import java.math.BigDecimal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KeyTemplateTest {

    @Test
    void aTemplateReplacesEachPlaceholderWithTheColumnValue() {
        KeyTemplate template = KeyTemplate.parse("project:{project_id}:task:{id}");

        assertThat(template.render(Map.of("id", "t1", "project_id", "p1", "title", "x")))
                .contains("project:p1:task:t1");
        assertThat(template.columns()).containsExactly("project_id", "id");
    }

    @Test
    void aPlaceholderMayStartOrEndTheTemplateAndRepeat() {
        assertThat(KeyTemplate.parse("{id}").render(Map.of("id", "a"))).contains("a");
        assertThat(KeyTemplate.parse("{id}:{id}").render(Map.of("id", "a"))).contains("a:a");
        assertThat(KeyTemplate.parse("{id}:{id}").columns()).containsExactly("id");
    }

    @Test
    void numbersAreWrittenInPlainNotationAndBooleansAsWords() {
        KeyTemplate template = KeyTemplate.parse("k:{n}:{d}:{b}");

        assertThat(template.render(Map.of("n", 42L, "d", new BigDecimal("1E+3"), "b", true)))
                .contains("k:42:1000:true");
        assertThat(template.render(Map.of("n", 7L, "d", new BigDecimal("12.50"), "b", false)))
                .contains("k:7:12.50:false");
    }

    @Test
    void aRowWithoutTheColumnOrWithItNullGivesNoKey() {
        KeyTemplate template = KeyTemplate.parse("project:{project_id}:tasks");
        Map<String, Object> nullProject = new HashMap<>();
        nullProject.put("project_id", null);

        assertThat(template.render(Map.of("id", "t1"))).isEmpty();
        assertThat(template.render(nullProject)).isEmpty();
        assertThat(template.render(null)).isEmpty();
    }

    @Test
    void anArrayValueGivesNoKey() {
        assertThat(KeyTemplate.parse("tag:{tags}").render(Map.of("tags", List.of("a", "b")))).isEmpty();
    }

    @Test
    void anUnclosedBraceIsRejectedWithItsPosition() {
        assertThatThrownBy(() -> KeyTemplate.parse("task:{id"))
                .isInstanceOf(InvalidTemplateException.class)
                .hasMessage("\"{\" at position 5 is never closed");
        assertThatThrownBy(() -> KeyTemplate.parse("task:{a{id}}"))
                .hasMessage("\"{\" at position 5 is never closed");
    }

    @Test
    void aClosingBraceWithoutAnOpeningOneIsRejected() {
        assertThatThrownBy(() -> KeyTemplate.parse("task:id}"))
                .hasMessage("\"}\" at position 7 has no matching \"{\"");
        assertThatThrownBy(() -> KeyTemplate.parse("task:{id}}"))
                .hasMessage("\"}\" at position 9 has no matching \"{\"");
    }

    @Test
    void anEmptyPlaceholderIsRejected() {
        assertThatThrownBy(() -> KeyTemplate.parse("task:{}"))
                .hasMessageContaining("empty placeholder \"{}\" at position 5");
    }

    @Test
    void aPlaceholderMustBeALowerCaseColumnName() {
        for (String bad : List.of("task:{Id}", "task:{1d}", "task:{project-id}", "task:{ id }", "task:{a.b}")) {
            assertThatThrownBy(() -> KeyTemplate.parse(bad)).as(bad)
                    .isInstanceOf(InvalidTemplateException.class)
                    .hasMessageContaining("is not a column name");
        }
        assertThat(KeyTemplate.parse("t:{_private_2}").columns()).containsExactly("_private_2");
    }

    @Test
    void aColumnNameLongerThanPostgresAllowsIsRejected() {
        assertThatThrownBy(() -> KeyTemplate.parse("t:{" + "a".repeat(64) + "}"))
                .hasMessageContaining("is not a column name");
    }

    @Test
    void whitespaceInTheLiteralTextIsRejected() {
        assertThatThrownBy(() -> KeyTemplate.parse("task: {id}"))
                .hasMessageContaining("whitespace or a control character at position 5");
    }

    @Test
    void aTemplateWithoutPlaceholderIsRejectedBecauseItWouldDeleteOneKeyForEveryChange() {
        assertThatThrownBy(() -> KeyTemplate.parse("task:id"))
                .hasMessage("has no {column} placeholder, so every change would delete this same key; write the "
                        + "column in braces, as in task:{id}");
    }

    @Test
    void anEmptyTemplateIsRejected() {
        assertThatThrownBy(() -> KeyTemplate.parse("")).hasMessage("is empty");
    }

    @Test
    void aTemplateReadsAsItWasWritten() {
        assertThat(KeyTemplate.parse("a:{b}:c")).hasToString("a:{b}:c").isEqualTo(KeyTemplate.parse("a:{b}:c"));
    }
}
