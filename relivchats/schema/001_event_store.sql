-- The eventsourcing library's application table for the "RelivChats" application.
-- Same shape as the library creates, plus `recorded_at` so projection lag can be measured in time.
CREATE TABLE relivchats_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (originator_id, originator_version)
) WITH (
    autovacuum_enabled = true,
    autovacuum_vacuum_threshold = 100000000,
    autovacuum_vacuum_scale_factor = 0.5,
    autovacuum_analyze_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01
);
CREATE UNIQUE INDEX relivchats_events_notification_id_idx ON relivchats_events (notification_id);
CREATE INDEX relivchats_events_topic_idx ON relivchats_events (topic, notification_id);

-- The library inserts rows as an array of this composite type (unnest), with or without DB functions.
CREATE TYPE stored_event_uuid AS (
    originator_id uuid,
    originator_version bigint,
    topic text,
    state bytea
);

-- One row per projection: how far it has applied the log, and why it stopped if it did.
CREATE TABLE projection_positions (
    name text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0,
    applied_at timestamptz,
    last_event_recorded_at timestamptz,
    error text,
    failed_position bigint,
    failed_topic text,
    failed_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
