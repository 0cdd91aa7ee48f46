package dev.changeflow.indexer.internal;

/** What happened to one document write. */
public enum Outcome {
    /** Stored: the index had no document for the id, or an older one. */
    APPLIED,
    /** The index already holds exactly this version: a redelivery or replay of the same change. */
    DUPLICATE,
    /** The index holds a newer version (live or tombstone): an older change arriving late, ignored. */
    STALE
}
