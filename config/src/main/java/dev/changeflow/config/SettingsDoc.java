package dev.changeflow.config;

import java.util.List;

/** Renders setting declarations as Markdown, so the configuration reference is generated, never written by hand. */
public final class SettingsDoc {
    private SettingsDoc() {
    }

    /** A Markdown table of {@code settings}: environment variable, key, default, allowed values and description. */
    public static String markdownTable(List<Setting<?>> settings) {
        StringBuilder out = new StringBuilder("| variable | key | default | allowed | description |\n")
                .append("|---|---|---|---|---|\n");
        for (Setting<?> s : settings) {
            String def = s.isSecret() ? "" : s.defaultValue().map(v -> "`" + v + "`").orElse("");
            out.append("| `").append(s.envName()).append("` | `").append(s.key()).append("` | ")
                    .append(escape(def)).append(" | ").append(escape(s.allowed())).append(" | ")
                    .append(escape(s.description())).append(" |\n");
        }
        return out.toString();
    }

    private static String escape(String text) {
        return text.replace("|", "\\|");
    }
}
