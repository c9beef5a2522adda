-- Configuration documents, knowledge-base articles with full-text search,
-- chat attachments, the ids deleted records leave behind, and an index for
-- one contact's events. The SQLite twin (migrations/sqlite) has the same
-- tables and columns; only the search index differs (a tsvector column
-- here, FTS5 there), and so does the search query (see `postgres.rs`).

-- Small configuration objects of any kind; the body is JSON. The workspace
-- is part of the key, so a put from another workspace never reaches a row
-- of this one.
CREATE TABLE documents (
    workspace_id  BIGINT NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    kind          TEXT   COLLATE "C" NOT NULL,
    id            BIGINT NOT NULL,
    body          TEXT   NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, kind, id)
);
-- For max_ids: ids are handed out across kinds and workspaces.
CREATE INDEX documents_by_id ON documents (id);

CREATE TABLE articles (
    id            BIGINT  PRIMARY KEY,
    workspace_id  BIGINT  NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    -- A document's id; no foreign key, as a deleted category leaves its
    -- articles uncategorised rather than blocking the delete.
    category      BIGINT,
    title         TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    -- INTEGER 0 or 1 on SQLite; the shared decoder reads either.
    published     BOOLEAN NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    -- The search index's document, computed by the database on every write,
    -- so it can never lag the text. The `english` configuration stems
    -- (`refunds` finds `refund`) and drops English stop words; the title
    -- weighs A, the body B, which ts_rank counts 1.0 and 0.4.
    search        TSVECTOR NOT NULL GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')
    ) STORED
);
CREATE INDEX articles_by_workspace ON articles (workspace_id, id);
CREATE INDEX articles_search ON articles USING GIN (search);

CREATE TABLE attachments (
    id            BIGINT PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    -- No foreign key, as for events' contacts: one would not check the
    -- workspace anyway, which every read does.
    contact_id    BIGINT NOT NULL,
    name          TEXT   NOT NULL,
    content_type  TEXT   NOT NULL,
    bytes         BYTEA  NOT NULL,
    created_at    BIGINT NOT NULL
);

-- The largest id deleted so far per kind of record ('document', 'article'),
-- so that max_ids never hands a deleted record's id out again.
CREATE TABLE retired_ids (
    kind  TEXT   COLLATE "C" PRIMARY KEY,
    id    BIGINT NOT NULL
);

-- One contact's events (a chat's messages), in order, within its workspace.
CREATE INDEX events_by_workspace_contact ON events (workspace_id, contact_id, id);
