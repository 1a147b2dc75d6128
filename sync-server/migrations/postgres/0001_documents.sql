-- Documents and sync states, as in SQLite (storage/sqlite.rs): chunks of a document
-- in the order written, loaded with one query and concatenated.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE chunks (
    seq    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    doc_id BYTEA NOT NULL,
    data   BYTEA NOT NULL
);
CREATE INDEX chunks_by_doc ON chunks (doc_id, seq);
CREATE TABLE sync_states (
    storage_id TEXT NOT NULL,
    doc_id     BYTEA NOT NULL,
    state      BYTEA NOT NULL,
    PRIMARY KEY (storage_id, doc_id)
);
