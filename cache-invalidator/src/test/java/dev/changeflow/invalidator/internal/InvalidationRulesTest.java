package dev.changeflow.invalidator.internal;

import static dev.changeflow.invalidator.internal.Events.task;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.Op;
import dev.changeflow.router.Source;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InvalidationRulesTest {
    private final InvalidationRules rules = new InvalidationRules("test", Map.of(
            "tasks", List.of(KeyTemplate.parse("task:{id}"), KeyTemplate.parse("project:{project_id}:tasks")),
            "projects", List.of(KeyTemplate.parse("project:{id}"))));

    @Test
    void anUpdateWithinAProjectInvalidatesTheTaskAndItsProjectList() {
        ChangeEvent update = Events.of(Op.UPDATE, task("t1", "pA", "old"), task("t1", "pA", "new"));

        assertThat(rules.keysFor(update)).containsExactly("task:t1", "project:pA:tasks");
    }

    @Test
    void movingATaskToAnotherProjectInvalidatesBothProjectLists() {
        ChangeEvent move = Events.of(Op.UPDATE, task("t1", "pA", "x"), task("t1", "pB", "x"));

        assertThat(rules.keysFor(move)).containsExactly("task:t1", "project:pA:tasks", "project:pB:tasks");
    }

    @Test
    void aDeleteInvalidatesTheKeysOfTheRowAsItWas() {
        ChangeEvent delete = Events.of(Op.DELETE, task("t1", "pA", "x"), null);

        assertThat(rules.keysFor(delete)).containsExactly("task:t1", "project:pA:tasks");
    }

    @Test
    void aCreateInvalidatesTheKeysOfTheNewRow() {
        ChangeEvent create = Events.of(Op.CREATE, null, task("t1", "pA", "x"));

        assertThat(rules.keysFor(create)).containsExactly("task:t1", "project:pA:tasks");
    }

    @Test
    void anImageWithANullColumnGivesNoKeyForTemplatesThatNameIt() {
        ChangeEvent attach = Events.of(Op.UPDATE, task("t1", null, "x"), task("t1", "pB", "x"));

        assertThat(rules.keysFor(attach)).containsExactly("task:t1", "project:pB:tasks");
    }

    @Test
    void anUpdateWithoutBeforeImageInvalidatesTheKeysOfTheAfterImage() {
        ChangeEvent update = Events.of(Op.UPDATE, null, task("t1", "pB", "x"));

        assertThat(rules.keysFor(update)).containsExactly("task:t1", "project:pB:tasks");
    }

    @Test
    void aChangeToATableWithoutRulesInvalidatesNothing() {
        Map<String, Object> org = new LinkedHashMap<>(Map.of("id", "o1", "name", "Acme"));
        ChangeEvent event = ChangeEvent.of(Op.CREATE, "organizations", Map.of("id", "o1"), null, org,
                new Source(1L, 1L, Instant.now(), false));

        assertThat(rules.keysFor(event)).isEmpty();
    }

    @Test
    void keysOfABatchAppearOnceInOrderOfFirstAppearance() {
        List<ChangeEvent> batch = List.of(
                Events.of(Op.UPDATE, task("t1", "pA", "a"), task("t1", "pA", "b")),
                Events.of(Op.UPDATE, task("t2", "pA", "a"), task("t2", "pB", "a")),
                Events.of(Op.UPDATE, task("t1", "pA", "b"), task("t1", "pA", "c")));

        assertThat(rules.keysFor(batch))
                .containsExactly("task:t1", "project:pA:tasks", "task:t2", "project:pB:tasks");
    }

    @Test
    void rulesNeedAtLeastOneTableAndEachTableATemplateListedOnce() {
        assertThatThrownBy(() -> new InvalidationRules("x", Map.of())).hasMessage("no table has rules");
        assertThatThrownBy(() -> new InvalidationRules("x", Map.of("tasks", List.of())))
                .hasMessage("table tasks has no key template");
        assertThatThrownBy(() -> new InvalidationRules("x", Map.of("tasks",
                List.of(KeyTemplate.parse("t:{id}"), KeyTemplate.parse("t:{id}")))))
                .hasMessage("table tasks lists a key template twice");
    }

    @Test
    void theTemplateCountAddsUpEveryTable() {
        assertThat(rules.templateCount()).isEqualTo(3);
    }
}
