-- Analytics rollups (docs/ANALYTICS.md): kept as notifications are created, delivered, failed and
-- acknowledged, so the answers read a few rows per period, never the notifications themselves.
-- Periods are UTC hours (2026-12-04T19); a notification's figures belong to the hour it was made.

-- When the event that caused a notification was received: delivery latency starts there.
ALTER TABLE notifications ADD COLUMN event_received_at TEXT;

-- channel: all (the notification as a whole), socket (the built-in Pusher server), pusher (the
-- project's own Pusher app), push (FCM and APNs).
CREATE TABLE analytics_hourly (
    project_id TEXT NOT NULL,
    hour TEXT NOT NULL,
    channel TEXT NOT NULL,
    sent BIGINT NOT NULL,
    received BIGINT NOT NULL,
    delivered BIGINT NOT NULL,
    failed BIGINT NOT NULL,
    acknowledged BIGINT NOT NULL,
    PRIMARY KEY (project_id, hour, channel)
);

-- Histograms: kind delivery (ms from the event's receipt to the first delivery) or ack (ms from
-- the notification to an acknowledgement); bucket i counts values up to the i-th bound of
-- analytics::BOUNDS_MS.
CREATE TABLE analytics_latency (
    project_id TEXT NOT NULL,
    hour TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (project_id, hour, channel, kind, bucket)
);

-- Users who received or acknowledged a notification, per hour (2026-12-04T19) and per day
-- (2026-12-04), so a period's active users are a count of rows.
CREATE TABLE analytics_active_users (
    project_id TEXT NOT NULL,
    period TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (project_id, period, user_id)
);
