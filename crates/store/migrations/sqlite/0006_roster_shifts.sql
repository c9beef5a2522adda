-- Published rosters: one row per agent and local day (an agent works at
-- most one shift a day). The PostgreSQL twin (migrations/postgres) has the
-- same columns.

CREATE TABLE roster_shifts (
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    -- The agent's user id; no foreign key, as for endpoints' queues: the
    -- service checks it, and a deleted user's past shifts stay for adherence.
    agent_id      INTEGER NOT NULL,
    -- The local date (workspace time zone) the shift starts on, YYYY-MM-DD.
    day           TEXT    NOT NULL,
    queue_id      INTEGER NOT NULL,
    template      TEXT    NOT NULL,
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL,
    -- JSON array of {start, end, paid}.
    breaks        TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, agent_id, day)
);
CREATE INDEX roster_shifts_by_start ON roster_shifts (workspace_id, starts_at);
