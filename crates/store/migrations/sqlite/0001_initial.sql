-- Switchboard's schema for SQLite. The PostgreSQL twin (migrations/postgres)
-- has the same tables and columns; the queries are shared, so the two must
-- stay in step.
--
-- Ids and times (milliseconds since the epoch) are INTEGER, JSON documents
-- are TEXT, enums are TEXT holding their serde names. Foreign keys are
-- deferred: a batch may name a parent before it puts it.

CREATE TABLE workspaces (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    workspace_id   INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    -- The login, unique across the installation.
    email          TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    role           TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX users_by_workspace ON users (workspace_id, id);

CREATE TABLE tokens (
    -- SHA-256 of the bearer credential; the credential itself is never stored.
    hash          BLOB    PRIMARY KEY,
    kind          TEXT    NOT NULL,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    user_id       INTEGER NOT NULL REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
    name          TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER
);

CREATE TABLE skills (
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    name          TEXT    NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

CREATE TABLE policies (
    id            INTEGER PRIMARY KEY,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    name          TEXT    NOT NULL,
    steps         TEXT    NOT NULL
);
CREATE INDEX policies_by_workspace ON policies (workspace_id, id);

CREATE TABLE queues (
    id            INTEGER PRIMARY KEY,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    name          TEXT    NOT NULL,
    settings      TEXT    NOT NULL
);
CREATE INDEX queues_by_workspace ON queues (workspace_id, id);

CREATE TABLE agents (
    user_id       INTEGER PRIMARY KEY REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    skills        TEXT    NOT NULL,
    capacity      TEXT    NOT NULL,
    memberships   TEXT    NOT NULL,
    wrap_up       TEXT,
    presence      TEXT    NOT NULL
);
CREATE INDEX agents_by_workspace ON agents (workspace_id, user_id);

CREATE TABLE customers (
    id            INTEGER PRIMARY KEY,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    name          TEXT    NOT NULL,
    attributes    TEXT    NOT NULL,
    tags          TEXT    NOT NULL,
    merged_into   INTEGER REFERENCES customers (id) DEFERRABLE INITIALLY DEFERRED,
    created_at    INTEGER NOT NULL
);
CREATE INDEX customers_by_workspace ON customers (workspace_id, id);

CREATE TABLE identities (
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    kind          TEXT    NOT NULL,
    value         TEXT    NOT NULL,
    customer_id   INTEGER NOT NULL REFERENCES customers (id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (workspace_id, kind, value)
);
CREATE INDEX identities_by_customer ON identities (customer_id);

CREATE TABLE contacts (
    id            INTEGER PRIMARY KEY,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    customer_id   INTEGER REFERENCES customers (id) DEFERRABLE INITIALLY DEFERRED,
    channel       TEXT    NOT NULL,
    direction     TEXT    NOT NULL,
    queue_id      INTEGER,
    state         TEXT    NOT NULL,
    priority      INTEGER NOT NULL,
    attributes    TEXT    NOT NULL,
    agent_id      INTEGER,
    enqueued_at   INTEGER,
    disposition   TEXT,
    notes         TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    ended_at      INTEGER
);
CREATE INDEX contacts_by_workspace ON contacts (workspace_id, id);
CREATE INDEX contacts_by_state ON contacts (workspace_id, state);
CREATE INDEX contacts_by_customer ON contacts (customer_id);

CREATE TABLE events (
    -- AUTOINCREMENT: ids are never reused, so they increase in commit order
    -- for good (a plain rowid may hand out a deleted maximum again).
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    at            INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    contact_id    INTEGER,
    agent_id      INTEGER,
    queue_id      INTEGER,
    customer_id   INTEGER,
    payload       TEXT    NOT NULL
);
CREATE INDEX events_by_workspace ON events (workspace_id, id);
CREATE INDEX events_by_contact ON events (contact_id);
CREATE INDEX events_by_customer ON events (customer_id);
