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
    version INTEGER NOT NULL CHECK (version > 0),
    state TEXT NOT NULL,
    -- a sign-off in force: the month's marks are read-only
    locks_month INTEGER NOT NULL DEFAULT 0,
    changed_by TEXT NOT NULL,
    changed_at_ms INTEGER NOT NULL,
    PRIMARY KEY (profile, topic, month, item)
);

CREATE TABLE decision_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    profile TEXT NOT NULL,
    topic TEXT NOT NULL,
    month TEXT NOT NULL,
    item TEXT NOT NULL,
    version INTEGER NOT NULL,
    before TEXT,
    after TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at_ms INTEGER NOT NULL,
    UNIQUE (profile, topic, month, item, version)
);

CREATE INDEX decision_changes_by_month ON decision_changes (profile, topic, month, id);
