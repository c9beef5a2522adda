-- Configuration documents, knowledge-base articles with full-text search,
-- chat attachments, the ids deleted records leave behind, and an index for
-- one contact's events. The PostgreSQL twin (migrations/postgres) has the
-- same tables and columns; only the search index differs (FTS5 here, a
-- tsvector column there), and so does the search query (see `sqlite.rs`).

-- Small configuration objects of any kind; the body is JSON. The workspace
-- is part of the key, so a put from another workspace never reaches a row
-- of this one.
CREATE TABLE documents (
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    kind          TEXT    NOT NULL,
    id            INTEGER NOT NULL,
    body          TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, kind, id)
);
-- For max_ids: ids are handed out across kinds and workspaces.
CREATE INDEX documents_by_id ON documents (id);

CREATE TABLE articles (
    id            INTEGER PRIMARY KEY,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    -- A document's id; no foreign key, as a deleted category leaves its
    -- articles uncategorised rather than blocking the delete.
    category      INTEGER,
    title         TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    -- 0 or 1: the Any driver refuses columns declared BOOLEAN on SQLite.
    published     INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX articles_by_workspace ON articles (workspace_id, id);

-- The search index: an external-content FTS5 table over the articles' title
-- and body (the text is stored once, in `articles`), kept in step by the
-- triggers below. Porter stemming over unicode61 folds case and diacritics
-- and finds `refund` for `refunds`. One index for all workspaces: searches
-- join back to `articles` to keep to one.
CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title,
    body,
    content = 'articles',
    content_rowid = 'id',
    tokenize = 'porter unicode61'
);

-- An external-content index must be told the old text to forget it. The
-- upserts fire the insert trigger or the update one, as the case may be; a
-- guarded upsert that changes nothing fires neither.
CREATE TRIGGER articles_indexed AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER articles_unindexed AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER articles_reindexed AFTER UPDATE OF title, body ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO articles_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;

CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) DEFERRABLE INITIALLY DEFERRED,
    -- No foreign key, as for events' contacts: one would not check the
    -- workspace anyway, which every read does.
    contact_id    INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    bytes         BLOB    NOT NULL,
    created_at    INTEGER NOT NULL
);

-- The largest id deleted so far per kind of record ('document', 'article'),
-- so that max_ids never hands a deleted record's id out again.
CREATE TABLE retired_ids (
    kind  TEXT    PRIMARY KEY,
    id    INTEGER NOT NULL
);

-- One contact's events (a chat's messages), in order, within its workspace.
CREATE INDEX events_by_workspace_contact ON events (workspace_id, contact_id, id);
