-- Endpoints: every way in to a workspace (a chat widget, a phone number, a
-- mailbox, a messaging account). The SQLite twin (migrations/sqlite) has
-- the same columns.

CREATE TABLE endpoints (
    id                 BIGINT  PRIMARY KEY,
    workspace_id       BIGINT  NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    -- voice, email, chat, sms, whatsapp, messenger, telegram or api.
    channel            TEXT    COLLATE "C" NOT NULL,
    name               TEXT    NOT NULL,
    -- The public identifier on its channel; NULL while unset (NULLs are
    -- distinct, so any number of endpoints may lack one).
    address            TEXT    COLLATE "C",
    -- No foreign keys to queues or documents: the service checks them, as
    -- for queues' business hours, and a deleted flow must not block.
    queue_id           BIGINT,
    flow_id            BIGINT,
    business_hours_id  BIGINT,
    enabled            BOOLEAN NOT NULL,
    -- JSON object of the channel's settings that are not secret.
    settings           TEXT    NOT NULL,
    -- The credentials, sealed by the service (AEAD): never in clear here.
    secrets            BYTEA   NOT NULL,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL,
    -- Across workspaces: an inbound call or mail must find one endpoint.
    UNIQUE (channel, address)
);
CREATE INDEX endpoints_by_workspace ON endpoints (workspace_id, id);
