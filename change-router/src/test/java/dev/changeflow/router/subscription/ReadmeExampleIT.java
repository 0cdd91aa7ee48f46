package dev.changeflow.router.subscription;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.router.ChangeEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** The README's subscription example is this code, and it works. */
class ReadmeExampleIT {
    private static final Path README = Path.of("..", "README.md");
    private final Map<String, String> titles = new ConcurrentHashMap<>();

    private void saveTitle(Object id, Object title) {
        titles.put(String.valueOf(id), String.valueOf(title));
    }

    private Subscription example(String bootstrap, String group, String topic) {
        // tag::subscribe[]
        Subscription subscription = Subscription.builder(bootstrap, group)
                .topics(topic)
                .onEach(event -> Mono.fromRunnable(() -> {
                    if (event.after() != null) {
                        saveTitle(event.key().get("id"), event.after().get("title"));
                    }
                }))
                .start();
        // end::subscribe[]
        return subscription;
    }

    @Test
    void theReadmeExampleSubscribesAndHandlesEvents() throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(2)) {
            ChangeEvent event = SubscriptionKit.event(7, 3);
            kit.send(event);

            try (Subscription subscription = example(kit.kafka.bootstrapServers(), kit.group, kit.topic)) {
                await("the example handled the event").atMost(Duration.ofSeconds(30))
                        .until(() -> "v3".equals(titles.get("task-7")));
            }
        }
    }

    @Test
    void theReadmeShowsExactlyThisExample() throws IOException {
        List<String> source = Files.readAllLines(Path.of("src/test/java/dev/changeflow/router/subscription/"
                + "ReadmeExampleIT.java"));
        String snippet = source.subList(source.indexOf("        // tag::subscribe[]") + 1,
                        source.indexOf("        // end::subscribe[]")).stream()
                .map(line -> line.substring(8)).collect(Collectors.joining("\n"));

        assertThat(snippet.lines().count()).isLessThanOrEqualTo(15);
        assertThat(Files.readString(README)).contains(snippet);
    }
}
