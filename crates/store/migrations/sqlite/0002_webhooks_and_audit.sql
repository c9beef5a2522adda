-- Outbound webhooks and their delivery log; an index for reading the event
-- log by kind (the audit log is events of kind 'audit'). The PostgreSQL twin
-- (migrations/postgres) has the same tables and columns.

CREATE TABLE webhooks (
    id            INTEGER PRIMARY KEY,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    url           TEXT    NOT NULL,
    -- JSON array of event kinds, or ["*"].
    events        TEXT    NOT NULL,
    -- The HMAC key. Signing needs it in clear, so unlike tokens it is not
    -- hashed; the API shows it once and it is never logged.
    secret        TEXT    NOT NULL,
    created_by    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX webhooks_by_workspace ON webhooks (workspace_id, id);

-- One row per attempt. No foreign key to webhooks: deleting a webhook
-- deletes its log, and an attempt finishing after that leaves a row no read
-- returns (webhook ids are never reused: see max_ids).
CREATE TABLE webhook_deliveries (
    delivery_id   TEXT    NOT NULL,
    attempt       INTEGER NOT NULL,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    webhook_id    INTEGER NOT NULL,
    event_id      INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    -- The HTTP status answered, or NULL with `error` when none was.
    status        INTEGER,
    error         TEXT,
    at            INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
CREATE INDEX deliveries_by_webhook ON webhook_deliveries (workspace_id, webhook_id, at);

CREATE INDEX events_by_kind ON events (workspace_id, kind, id);
