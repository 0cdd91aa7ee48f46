package dev.changeflow.invalidator.internal;

import dev.changeflow.router.TopicRouter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** Which topics the invalidator consumes: those of the tables that have rules, as the router names them. Stateless. */
public final class TopicSelection {
    private TopicSelection() {
    }

    /**
     * The topic of each table that has rules, in rule order.
     *
     * @throws IllegalArgumentException if the router cannot name a table's topic ({@link TopicRouter#topicFor})
     */
    public static Map<String, String> topicsOf(InvalidationRules rules, TopicRouter router) {
        Map<String, String> topicOf = new LinkedHashMap<>();
        for (String table : rules.tables()) {
            topicOf.put(table, router.topicFor(table));
        }
        return topicOf;
    }

    /**
     * The topics to subscribe to.
     *
     * @param topicOf per table with rules, its topic ({@link #topicsOf})
     * @param configured the comma-separated topics an operator gave, if any
     * @return the tables' topics (in rule order, without repeats) when nothing is configured; otherwise the
     *     configured topics, once it is checked that they are exactly those
     * @throws IllegalArgumentException if the configured topics miss a table's topic or include one that no table
     *     with rules maps to; the message says which
     */
    public static List<String> select(Map<String, String> topicOf, Optional<String> configured) {
        Set<String> expected = new LinkedHashSet<>(topicOf.values());
        if (configured.isEmpty()) {
            return List.copyOf(expected);
        }
        Set<String> given = Arrays.stream(configured.get().split(",")).map(String::trim)
                .collect(Collectors.toCollection(LinkedHashSet::new));
        List<String> problems = new ArrayList<>();
        topicOf.forEach((table, topic) -> {
            if (!given.contains(topic)) {
                problems.add("the rules for table " + table + " would never run: its topic " + topic
                        + " is not subscribed");
            }
        });
        for (String topic : given) {
            if (!expected.contains(topic)) {
                problems.add("topic " + topic + " is not the topic of any table with rules ("
                        + topicOf.entrySet().stream().map(e -> e.getKey() + " -> " + e.getValue())
                                .collect(Collectors.joining(", ")) + ")");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems)
                    + "; leave it unset to subscribe to the rules' topics");
        }
        return List.copyOf(given);
    }
}
