package dev.changeflow.config;

/**
 * How strict a process is about its environment. In {@link #PRODUCTION} a weaker-than-configured resource (for example
 * a topic with fewer partitions or a lower replication factor) stops startup; in {@link #DEV} it is a warning.
 */
public enum Mode {
    PRODUCTION,
    DEV;

    /** The setting that selects the mode; production unless told otherwise. */
    public static final Setting<Mode> SETTING = Setting.oneOf("changeflow.mode",
            "production: startup fails when a topic is weaker than configured; dev: it only warns.",
            Mode.class, PRODUCTION);
}
