-- Plans, quotas, usage metering and Stripe billing (PostgreSQL). Kept in step with
-- migrations/sqlite/0010_plans.sql.

-- The quota columns hold each project's effective quotas (NULL = unlimited): the plan's, except
-- those named in quota_overrides (a JSON object), which platform staff set. Existing projects
-- get their plan's values.
ALTER TABLE projects ADD COLUMN quota_rules BIGINT;
ALTER TABLE projects ADD COLUMN quota_sounds BIGINT;
ALTER TABLE projects ADD COLUMN quota_overrides TEXT NOT NULL DEFAULT '{}';
-- What a paid plan does past its monthly event quota: reject, or bill the overage.
ALTER TABLE projects ADD COLUMN overage TEXT NOT NULL DEFAULT 'reject';
-- Per-key requests a second; NULL means the plan's.
ALTER TABLE projects ADD COLUMN rate_limit_per_second BIGINT;
ALTER TABLE projects ADD COLUMN stripe_customer_id TEXT;
ALTER TABLE projects ADD COLUMN subscription_id TEXT;
ALTER TABLE projects ADD COLUMN subscription_status TEXT;
ALTER TABLE projects ADD COLUMN subscription_item_id TEXT;
ALTER TABLE projects ADD COLUMN current_period_end TEXT;
ALTER TABLE projects ADD COLUMN grace_until TEXT;

UPDATE projects SET
    quota_events_per_month = CASE plan WHEN 'free' THEN 1000 WHEN 'starter' THEN 50000 WHEN 'professional' THEN 500000 ELSE NULL END,
    quota_notifications_per_month = CASE plan WHEN 'free' THEN 5000 WHEN 'starter' THEN 100000 WHEN 'professional' THEN 1000000 ELSE NULL END,
    quota_users = CASE plan WHEN 'free' THEN 100 WHEN 'starter' THEN 1000 WHEN 'professional' THEN 10000 ELSE NULL END,
    quota_rules = CASE plan WHEN 'free' THEN 5 WHEN 'starter' THEN 25 WHEN 'professional' THEN 100 ELSE NULL END,
    quota_sounds = CASE plan WHEN 'free' THEN 3 WHEN 'starter' THEN 10 WHEN 'professional' THEN 50 ELSE NULL END;

-- Usage per project and period: period is YYYY-MM-DD (daily) or YYYY-MM (monthly). Events of
-- projects with a hard monthly limit are counted in the ingest commit; everything else is
-- counted in memory and added here about once a second.
CREATE TABLE usage_metrics (
    project_id TEXT NOT NULL REFERENCES projects (id),
    period TEXT NOT NULL,
    period_type TEXT NOT NULL,
    events_received BIGINT NOT NULL,
    notifications_sent BIGINT NOT NULL,
    notifications_delivered BIGINT NOT NULL,
    notifications_failed BIGINT NOT NULL,
    active_users BIGINT NOT NULL,
    api_calls BIGINT NOT NULL,
    storage_used_bytes BIGINT NOT NULL,
    overage_reported BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project_id, period, period_type)
);

-- The 80% and 100% warnings already sent: one row per project, quota, month and level.
CREATE TABLE quota_alerts (
    project_id TEXT NOT NULL REFERENCES projects (id),
    quota TEXT NOT NULL,
    period TEXT NOT NULL,
    level TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (project_id, quota, period, level)
);

-- Stripe events already handled, so a redelivered event changes nothing.
CREATE TABLE stripe_events (
    id TEXT PRIMARY KEY NOT NULL,
    event_type TEXT NOT NULL,
    project_id TEXT,
    received_at TEXT NOT NULL
);
