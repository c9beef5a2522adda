-- Endpoints: every way in to a workspace (a chat widget, a phone number, a
-- mailbox, a messaging account). The PostgreSQL twin (migrations/postgres)
-- has the same columns.

CREATE TABLE endpoints (
    id                 INTEGER PRIMARY KEY,
    workspace_id       INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    -- voice, email, chat, sms, whatsapp, messenger, telegram or api.
    channel            TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    -- The public identifier on its channel; NULL while unset (NULLs are
    -- distinct, so any number of endpoints may lack one).
    address            TEXT,
    -- No foreign keys to queues or documents: the service checks them, as
    -- for queues' business hours, and a deleted flow must not block.
    queue_id           INTEGER,
    flow_id            INTEGER,
    business_hours_id  INTEGER,
    -- 0 or 1: the Any driver refuses columns declared BOOLEAN on SQLite.
    enabled            INTEGER NOT NULL,
    -- JSON object of the channel's settings that are not secret.
    settings           TEXT    NOT NULL,
    -- The credentials, sealed by the service (AEAD): never in clear here.
    secrets            BLOB    NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    -- Across workspaces: an inbound call or mail must find one endpoint.
    UNIQUE (channel, address)
);
CREATE INDEX endpoints_by_workspace ON endpoints (workspace_id, id);
