-- A record's append that an erasure cannot race, in one round trip (issue 15): the
-- shared advisory lock on the document (an erasure takes it exclusively) holds until
-- the statement's transaction commits, and the check for an erasure runs after it
-- with a snapshot of its own (each statement of a function takes one in READ
-- COMMITTED). Without it an append that checked before an erasure committed could
-- insert after the erasure's delete, and the chunk survived. Returns the chunk's seq,
-- or NULL for an erased id.
CREATE FUNCTION paktum_append(doc BYTEA, body BYTEA, lock_key BIGINT) RETURNS BIGINT
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    written BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(lock_key);
    INSERT INTO chunks (doc_id, data) SELECT doc, body
        WHERE NOT EXISTS (SELECT 1 FROM erased WHERE doc_id = doc)
        RETURNING seq INTO written;
    RETURN written;
END
$$;

-- An index's append at the generation its writer read, likewise in one round trip:
-- -1 when an erasure rewrote the index since (nothing written), NULL for an erased id
-- (taken, nothing written), else the chunk's seq.
CREATE FUNCTION paktum_append_at(doc BYTEA, body BYTEA, lock_key BIGINT, at BIGINT)
RETURNS BIGINT
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    written BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(lock_key);
    IF COALESCE((SELECT generation FROM generations WHERE doc_id = doc), 0) <> at THEN
        RETURN -1;
    END IF;
    INSERT INTO chunks (doc_id, data) SELECT doc, body
        WHERE NOT EXISTS (SELECT 1 FROM erased WHERE doc_id = doc)
        RETURNING seq INTO written;
    RETURN written;
END
$$;
