-- Kill switches and gradual rollout (relivchats/domain/switches.py): one row per switch that an
-- operator has ever set (a switch without a row is on), and every change, who made it and when.
CREATE TABLE IF NOT EXISTS feature_switches (
    name        text PRIMARY KEY,
    percent     smallint NOT NULL CHECK (percent BETWEEN 0 AND 100),
    changed_at  timestamptz NOT NULL DEFAULT now(),
    changed_by  text NOT NULL
);

CREATE TABLE IF NOT EXISTS feature_switch_changes (
    change_id   bigserial PRIMARY KEY,
    name        text NOT NULL,
    old_percent smallint NOT NULL,
    new_percent smallint NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    changed_by  text NOT NULL
);

CREATE INDEX IF NOT EXISTS feature_switch_changes_by_name
    ON feature_switch_changes (name, change_id);
