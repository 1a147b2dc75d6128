-- Erased documents (issue 15), as in SQLite: an id here is never stored again.
-- PostgreSQL does not zero freed tuples: a VACUUM of chunks and sync_states after an
-- erasure removes the dead rows from the table files (see ARCHITECTURE.md).
CREATE TABLE erased (
    doc_id BYTEA PRIMARY KEY
);
