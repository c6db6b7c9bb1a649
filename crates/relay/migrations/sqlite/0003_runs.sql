-- Scheduled runs: one per job and slot (the month, or a cron rule's time).
-- Retries and the days the vendor had not published yet update the same
-- run, so it is reported once.
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    profile TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    -- YYYY-MM for a month's rule, YYYY-MM-DDTHH:MM for a cron rule's time
    slot TEXT NOT NULL,
    -- YYYY-MM: the invoice month of the window's start
    month TEXT NOT NULL,
    window_start TEXT NOT NULL,
    window_end TEXT NOT NULL,
    -- running | not_yet_published | succeeded | failed
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- the day (YYYY-MM-DD) the scheduler last tried it: a month not yet
    -- published is tried again on a later day
    tried_on TEXT NOT NULL,
    started_at_ms INTEGER NOT NULL,
    finished_at_ms INTEGER,
    -- JSON: the archived documents' ids
    documents TEXT NOT NULL DEFAULT '[]',
    -- JSON: what the run found
    findings TEXT,
    error TEXT,
    -- when the people the job names were told; empty until they were
    reported_at_ms INTEGER,
    -- JSON: the channels told so far (email, webhook:NAME), so a channel
    -- that was down is tried again without telling the others twice
    told TEXT NOT NULL DEFAULT '[]',
    -- the relay running it, until when
    lease_holder TEXT,
    lease_until_ms INTEGER,
    UNIQUE (job, slot)
);

CREATE INDEX runs_by_profile ON runs (profile, id);
