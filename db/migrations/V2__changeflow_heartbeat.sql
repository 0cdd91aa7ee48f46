-- Heartbeat table written by capture's heartbeat action query.
--
-- A logical replication slot only moves forward when the connector confirms an LSN it has received. When app.tasks and
-- app.projects are idle but other tables are busy, nothing reaches the connector and the slot pins WAL without bound.
-- Capture therefore updates this one-row table every heartbeat interval; the table is in capture's publication, so the
-- change flows through the slot and lets the confirmed LSN advance. Its events are never published to Kafka.
CREATE TABLE app.changeflow_heartbeat (
    id      smallint    PRIMARY KEY CHECK (id = 1),
    beat_at timestamptz NOT NULL
);

INSERT INTO app.changeflow_heartbeat (id, beat_at) VALUES (1, now());
