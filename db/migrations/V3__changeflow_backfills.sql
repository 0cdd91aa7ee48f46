-- Backfills (incremental snapshots) while streaming.
--
-- changeflow_signal is Debezium's signalling table (signal.data.collection): `changeflow snapshot start|stop` insert an
-- execute-snapshot or stop-snapshot row, which reaches capture through the replication slot like any change, so a
-- request survives a crash or a failover of capture. Debezium also writes its chunk watermarks here (a
-- snapshot-window-open row per chunk, deleted when the chunk's window closes). Capture reads the table's changes and
-- never publishes them. Debezium reads the first three columns by position: keep them as they are.
CREATE TABLE app.changeflow_signal (
    id   varchar(128)  PRIMARY KEY,
    type varchar(32)   NOT NULL,
    data varchar(4096)
);

-- One row per backfill requested, for `changeflow snapshot status`: what was asked, when, and the WAL position at
-- which capture has seen the request (requested_lsn; set right after the request committed). Not captured.
CREATE TABLE app.changeflow_backfill (
    id            varchar(128) PRIMARY KEY,
    table_name    text         NOT NULL,
    condition     text,
    chunk_size    integer      NOT NULL,
    rows_estimate bigint       NOT NULL,
    requested_at  timestamptz  NOT NULL DEFAULT now(),
    requested_lsn pg_lsn,
    stopped_at    timestamptz
);
