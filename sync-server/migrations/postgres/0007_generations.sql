-- How many times an erasure rewrote an index (issue 15): a relay writes an index
-- only at the generation it read, so a relay that has not seen an erasure yet cannot
-- store a change built on the old history after the rewrite. No row: generation 0.
CREATE TABLE generations (
    doc_id BYTEA PRIMARY KEY,
    generation BIGINT NOT NULL
);
