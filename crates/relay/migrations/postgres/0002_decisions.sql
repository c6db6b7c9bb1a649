-- The team's shared decisions: each one's current state, and every change
-- to it. A decision is a profile's settings, an item's mark in a month, or
-- a month's sign-off of an endpoint; its state is JSON the relay reads.
CREATE TABLE decisions (
    profile TEXT NOT NULL,
    -- settings | review | sign_off
    topic TEXT NOT NULL,
    -- YYYY-MM, or '' for the settings
    month TEXT NOT NULL,
    -- the item's key for a mark, the endpoint for a sign-off, '' for the settings
    item TEXT NOT NULL,
    version BIGINT NOT NULL CHECK (version > 0),
    state JSONB NOT NULL,
    -- a sign-off in force: the month's marks are read-only
    locks_month BOOLEAN NOT NULL DEFAULT FALSE,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (profile, topic, month, item)
);

CREATE TABLE decision_changes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    profile TEXT NOT NULL,
    topic TEXT NOT NULL,
    month TEXT NOT NULL,
    item TEXT NOT NULL,
    version BIGINT NOT NULL,
    before JSONB,
    after JSONB NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    UNIQUE (profile, topic, month, item, version)
);

CREATE INDEX decision_changes_by_month ON decision_changes (profile, topic, month, id);
